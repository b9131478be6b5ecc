"""The daemon for real: ``rundbrief run`` subprocesses on one SQLite file, a real SMTP
server on loopback, SIGKILL and SIGTERM; and the scheduler's embargo trigger in-process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.clock import SystemClock
from pipeline.config import load_settings
from pipeline.mailings import newsletter_key
from pipeline.schedule.daemon import Daemon
from pipeline.store import Store
from pipeline.store import outbox as db
from pipeline.store import schedule as q
from pipeline.store.schema import deliveries, job_runs
from tests.deliver.support import write_config
from tests.schedule.support import SECRET, add_mailing, add_newsletter, add_subscribers
from tests.support.smtp import SmtpServer

REPO = Path(__file__).resolve().parents[2]
BERLIN_TZ = "Europe/Berlin"

# Send "every minute" so the newsletter of this week is due the moment a daemon starts;
# compose never (1 January, 03:00) so nothing else happens.
SCHEDULE = """
[schedule]
collect_every_minutes = 60
compose_newsletter = "0 3 1 1 *"
send_newsletter = "* * * * *"
max_send_delay_minutes = 120
"""


def daemon_config(tmp_path: Path, smtp: SmtpServer, **kwargs: object) -> Path:
    config = write_config(tmp_path, smtp=smtp, **kwargs)  # type: ignore[arg-type]
    config.write_text(config.read_text(encoding="utf-8") + SCHEDULE, encoding="utf-8")
    return config


class Proc:
    """A ``rundbrief`` subprocess (by default the daemon) with its output in ``log``."""

    def __init__(self, config: Path, log: Path, *args: str) -> None:
        self.log = log
        self._out = log.open("wb")
        env = {**os.environ, "RUNDBRIEF_SECRET": SECRET}
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "--config", str(config), *(args or ("-v", "run"))],
            cwd=REPO,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def signal(self, signum: int) -> None:
        self.popen.send_signal(signum)

    def wait(self, timeout: float = 20) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        finally:
            self._out.close()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()
        self._out.close()


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for proc in started:
        proc.stop()


def wait_for(check: Callable[[], bool], timeout: float, what: str, *procs: Proc) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            logs = "\n\n".join(p.output()[-3000:] for p in procs)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.02)


def this_week() -> str:
    return newsletter_key(datetime.now(UTC), load_tz())


def load_tz():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(BERLIN_TZ)


def status(store: Store, mailing_id: int) -> str:
    state = q.mailing_state(store, mailing_id)
    assert state is not None
    return state.status


@pytest.mark.slow
def test_two_daemons_on_one_sqlite_file_send_one_newsletter(
    tmp_path: Path, smtp_server: SmtpServer, procs: list[Proc]
) -> None:
    config = daemon_config(tmp_path, smtp_server, batch_size=20, per_second=400)
    store = Store.open(f"sqlite:///{tmp_path / 'rundbrief.db'}")
    clock = SystemClock()
    emails = add_subscribers(store, clock, 120)
    mailing_id = add_newsletter(store, clock, period_key=this_week())  # type: ignore[arg-type]
    procs.append(Proc(config, tmp_path / "a.log"))
    procs.append(Proc(config, tmp_path / "b.log"))
    wait_for(lambda: status(store, mailing_id) == "sent", 40, "the send", *procs)
    for proc in procs:
        proc.signal(signal.SIGTERM)
    assert [proc.wait() for proc in procs] == [0, 0], [p.output()[-2000:] for p in procs]
    got = Counter(smtp_server.sink.recipients())
    assert {e: got[e] for e in emails} == dict.fromkeys(emails, 1)
    assert sum(got.values()) == len(emails)
    with store.connect() as conn:
        outcomes = [
            r.outcome
            for r in conn.execute(select(job_runs.c.outcome).where(job_runs.c.job == "send"))
        ]
    assert outcomes.count("ok") >= 1
    store.close()


@pytest.mark.slow
def test_a_daemon_killed_during_a_send_resumes_without_losing_anyone(
    tmp_path: Path, smtp_server: SmtpServer, procs: list[Proc]
) -> None:
    config = daemon_config(tmp_path, smtp_server, batch_size=20, per_second=120)
    store = Store.open(f"sqlite:///{tmp_path / 'rundbrief.db'}")
    clock = SystemClock()
    emails = add_subscribers(store, clock, 300)
    mailing_id = add_newsletter(store, clock, period_key=this_week())  # type: ignore[arg-type]
    first = Proc(config, tmp_path / "first.log")
    procs.append(first)
    wait_for(lambda: len(smtp_server.messages) >= 60, 30, "the first messages", first)
    first.signal(signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL
    in_flight = db.counts(store, mailing_id)["sending"]
    assert status(store, mailing_id) == "sending"
    before = len(smtp_server.messages)
    assert before < len(emails)
    second = Proc(config, tmp_path / "second.log")
    procs.append(second)
    wait_for(lambda: status(store, mailing_id) == "sent", 40, "the resumed send", second)
    second.signal(signal.SIGTERM)
    assert second.wait() == 0, second.output()[-2000:]
    assert "taking over an interrupted send" in second.output()
    got = Counter(smtp_server.sink.recipients())
    assert set(emails) <= set(got), "a recipient was lost"
    duplicates = sum(got.values()) - len(got)
    assert duplicates <= in_flight, (duplicates, in_flight)
    store.close()


@pytest.mark.slow
def test_sigterm_stops_cleanly_and_the_next_start_resumes(
    tmp_path: Path, smtp_server: SmtpServer, procs: list[Proc]
) -> None:
    config = daemon_config(tmp_path, smtp_server, batch_size=20, per_second=100)
    store = Store.open(f"sqlite:///{tmp_path / 'rundbrief.db'}")
    clock = SystemClock()
    emails = add_subscribers(store, clock, 300)
    mailing_id = add_newsletter(store, clock, period_key=this_week())  # type: ignore[arg-type]
    first = Proc(config, tmp_path / "first.log")
    procs.append(first)
    wait_for(lambda: len(smtp_server.messages) >= 40, 30, "the first messages", first)
    stopped_at = time.monotonic()
    first.signal(signal.SIGTERM)
    assert first.wait(timeout=15) == 0, first.output()[-3000:]
    assert time.monotonic() - stopped_at < 10
    # Stopped between batches: state recorded, nothing left in flight, the lease let go.
    state = q.mailing_state(store, mailing_id)
    assert state is not None and state.status == "sending"
    assert db.senders(store, mailing_id) == []
    counts = db.counts(store, mailing_id)
    assert counts["sending"] == 0 and 0 < counts["sent"] < len(emails)
    assert q.last_job_runs(store)["send"].outcome == "stopped"
    second = Proc(config, tmp_path / "second.log")
    procs.append(second)
    wait_for(lambda: status(store, mailing_id) == "sent", 40, "the resumed send", second)
    second.signal(signal.SIGINT)
    assert second.wait() == 0, second.output()[-2000:]
    got = Counter(smtp_server.sink.recipients())
    # A clean stop finishes its batch: nobody twice, nobody lost.
    assert {e: got[e] for e in emails} == dict.fromkeys(emails, 1)
    store.close()


def test_the_scheduler_releases_an_embargo_at_its_second(
    tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = daemon_config(tmp_path, smtp_server)
    settings = load_settings(config)
    store = Store.open(settings.database_url())
    clock = SystemClock()
    add_subscribers(store, clock, 3, lists=("press",))
    embargo = (clock.now() + timedelta(seconds=2)).replace(microsecond=0) + timedelta(seconds=1)
    mailing_id = add_mailing(store, clock, kind="press", lists=("press",), send_at=embargo)
    daemon = Daemon(settings, store, clock=clock)
    daemon.start()
    try:
        assert daemon.scheduler.get_job(f"press:{mailing_id}") is not None
        wait_for(lambda: status(store, mailing_id) == "sent", 15, "the embargoed send")
    finally:
        daemon.stop()
    with store.connect() as conn:
        sent = list(
            conn.execute(
                select(deliveries.c.sent_at).where(deliveries.c.mailing_id == mailing_id)
            ).scalars()
        )
    assert len(sent) == 3
    assert min(sent) >= embargo
    assert min(sent) - embargo < timedelta(seconds=3)
    store.close()


def test_jobs_are_kept_in_the_store_and_survive_a_restart(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config = daemon_config(tmp_path, smtp_server)
    settings = load_settings(config)
    store = Store.open(settings.database_url())
    daemon = Daemon(settings, store)
    daemon.start()
    ids = {job.id for job in daemon.scheduler.get_jobs()}
    send_next = daemon.scheduler.get_job("send").next_run_time
    daemon.stop()
    from pipeline.schedule.plan import stored_next_runs

    stored = stored_next_runs(store)
    assert {"collect", "compose", "send", "sync"} <= set(stored) == ids
    assert stored["send"] == send_next
    store.close()


def test_after_downtime_a_late_newsletter_is_held_and_reported(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    from pipeline.schedule.periods import previous_fire

    config = daemon_config(tmp_path, smtp_server)
    text = config.read_text(encoding="utf-8")
    # Due every day at the hour three hours ago (Berlin time): when the daemon starts,
    # the last due time was 3-4 hours ago (> the 120 min grace), whenever the test runs.
    three_hours_ago = SystemClock().now().astimezone(load_tz()) - timedelta(hours=3)
    cron = f"0 {three_hours_ago.hour} * * *"
    text = text.replace('send_newsletter = "* * * * *"', f'send_newsletter = "{cron}"')
    text = text.replace(
        'from_address = "newsletter@junge-buergermeister.example"',
        'from_address = "newsletter@junge-buergermeister.example"\n'
        'operator = "betrieb@junge-buergermeister.example"',
    )
    config.write_text(text, encoding="utf-8")
    settings = load_settings(config)
    store = Store.open(settings.database_url())
    clock = SystemClock()
    due = previous_fire(cron, clock.now(), load_tz())
    assert due is not None
    assert clock.now() - due > timedelta(minutes=121)
    add_subscribers(store, clock, 3)
    mailing_id = add_newsletter(store, clock, period_key=newsletter_key(due, load_tz()))  # type: ignore[arg-type]
    daemon = Daemon(settings, store, clock=clock)
    daemon.start()
    try:
        wait_for(
            lambda: any(n.key == f"missed:{mailing_id}" for n in q.list_notifications(store)),
            15,
            "the missed-send notification",
        )
        time.sleep(0.5)
    finally:
        daemon.stop()
    assert status(store, mailing_id) == "approved"
    assert db.counts(store, mailing_id)["sent"] == 0
    to_operator = [m for m in smtp_server.messages if "betrieb@" in m.rcpt_tos[0]]
    subjects = [str(m.message["Subject"]) for m in to_operator]
    assert len(to_operator) == 1, subjects
    assert "Versand verpasst" in subjects[0]
    store.close()


@pytest.mark.parametrize(("late_by", "runs"), [(30, 1), (7200, 0)])
def test_a_stored_run_missed_during_downtime_runs_once_within_its_grace(
    tmp_path: Path, smtp_server: SmtpServer, late_by: int, runs: int
) -> None:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    from pipeline.schedule.plan import JOB_TABLE

    config = daemon_config(tmp_path, smtp_server)
    text = config.read_text(encoding="utf-8").replace(
        'send_newsletter = "* * * * *"', 'send_newsletter = "0 3 1 1 *"'
    )
    config.write_text(text + "misfire_grace_seconds = 3600\n", encoding="utf-8")
    settings = load_settings(config)
    store = Store.open(settings.database_url())
    daemon = Daemon(settings, store)
    daemon.start()
    daemon.stop()
    # The daemon was down when "send" was due: its stored next run lies in the past.
    jobstore = SQLAlchemyJobStore(engine=store.engine, tablename=JOB_TABLE)
    job = jobstore.lookup_job("send")
    job._scheduler = daemon.scheduler  # for its time zone
    job._modify(next_run_time=datetime.now(UTC) - timedelta(seconds=late_by))
    jobstore.update_job(job)
    daemon = Daemon(settings, store)
    daemon.start()
    try:
        time.sleep(1.5)
    finally:
        daemon.stop()
    with store.connect() as conn:
        sends = conn.execute(select(job_runs.c.id).where(job_runs.c.job == "send")).all()
    # within misfire_grace_seconds: run once (coalesced); beyond: skipped (sync catches up)
    assert len(sends) == runs
    store.close()
