"""Issue 10, one lease for sending: the daemon sends a mailing while a ``rundbrief worker``
and a ``rundbrief send`` join it. All three end cleanly and every recipient gets one
message; with a SIGKILL of each of the three in turn the survivors finish, and only the
chunk in flight at the kill can go twice. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import re
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.clock import SystemClock
from pipeline.store import Store
from pipeline.store import outbox as db
from pipeline.store.schema import deliveries, job_runs
from tests.schedule.support import add_newsletter, add_subscribers
from tests.schedule.test_daemon import Proc, daemon_config, procs, status, this_week, wait_for
from tests.support.smtp import SmtpServer

__all__ = ["procs"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rundbrief.db'}"
    else:
        yield request.getfixturevalue("pg_url")


def pid_of(worker: str) -> int:
    return int(worker.split(":")[1])


class Claimers:
    """Every worker seen holding deliveries of a mailing, by pid (one has joined once it
    claimed a batch)."""

    def __init__(self, store: Store, mailing_id: int) -> None:
        self.store = store
        self.mailing_id = mailing_id
        self.seen: dict[int, str] = {}

    def look(self) -> dict[int, str]:
        with self.store.connect() as conn:
            rows = conn.execute(
                select(deliveries.c.claimed_by)
                .where(
                    deliveries.c.mailing_id == self.mailing_id,
                    deliveries.c.status == "sending",
                    deliveries.c.claimed_by.is_not(None),
                )
                .distinct()
            )
            self.seen.update((pid_of(r.claimed_by), r.claimed_by) for r in rows)
        return self.seen


def daemon_sends(store: Store) -> list[str]:
    """The details of the daemon's send job runs that sent (not the skipped ones)."""
    with store.connect() as conn:
        rows = conn.execute(
            select(job_runs.c.detail)
            .where(
                job_runs.c.job == "send",
                job_runs.c.outcome.is_not(None),
                job_runs.c.detail.like("% sent, %"),
            )
            .order_by(job_runs.c.id)
        )
        return [r.detail for r in rows]


def shares(daemon: list[str], worker: str, send: str) -> dict[str, int]:
    return {
        "daemon": sum(int(re.match(r"mailing \d+: (\d+) sent", d)[1]) for d in daemon),  # type: ignore[index]
        "worker": sum(int(n) for n in re.findall(r"sent (\d+), failed", worker)),
        "send": json.loads(send)["sent"] if send.strip() else 0,
    }


class Run:
    """A mailing the daemon is sending, with a worker and a send joined to it."""

    def __init__(
        self, tmp_path: Path, url: str, smtp: SmtpServer, procs: list[Proc], *, n: int, rate: int
    ) -> None:
        self.smtp = smtp
        # A slow relay until the others have joined (they take a while to start).
        smtp.sink.delay = 1.0
        config = daemon_config(tmp_path, smtp, url=url, batch_size=10, per_second=rate)
        self.store = Store.open(url)
        self.emails = add_subscribers(self.store, SystemClock(), n)
        self.mailing_id = add_newsletter(self.store, SystemClock(), period_key=this_week())  # type: ignore[arg-type]
        self.daemon = Proc(config, tmp_path / "daemon.log")
        procs.append(self.daemon)
        wait_for(lambda: len(smtp.messages) >= 5, 40, "the daemon's first messages", self.daemon)
        assert status(self.store, self.mailing_id) == "sending"
        self.worker = Proc(config, tmp_path / "worker.log", "worker", "--once")
        self.send = Proc(config, tmp_path / "send.log", "send", str(self.mailing_id), "--json")
        procs.extend([self.worker, self.send])
        self.all = (self.daemon, self.worker, self.send)
        pids = {p.popen.pid for p in self.all}
        self.claimers = Claimers(self.store, self.mailing_id)
        wait_for(
            lambda: set(self.claimers.look()) >= pids,
            30,
            "all three senders on the mailing",
            *self.all,
        )
        smtp.sink.delay = 0.0

    def received(self) -> Counter[str]:
        return Counter(self.smtp.sink.recipients())


@pytest.mark.slow
def test_a_worker_and_a_send_join_the_daemon_and_all_three_finish(
    tmp_path: Path, smtp_server: SmtpServer, procs: list[Proc], store_url: str
) -> None:
    # 300 messages at 12/s shared by all: at least 25 s, longer than the old holder's
    # heartbeat (20 s), which then found itself replaced and stopped the daemon's send.
    run = Run(tmp_path, store_url, smtp_server, procs, n=300, rate=12)
    joined_at = len(smtp_server.messages)
    assert run.send.wait(timeout=120) == 0, run.send.output()[-3000:]
    assert run.worker.wait(timeout=60) == 0, run.worker.output()[-3000:]
    wait_for(lambda: bool(daemon_sends(run.store)), 30, "the daemon's send job", run.daemon)
    run.daemon.signal(signal.SIGTERM)
    assert run.daemon.wait() == 0, run.daemon.output()[-3000:]
    assert status(run.store, run.mailing_id) == "sent"
    # Each ended with the mailing sent, none was made to stop.
    done = daemon_sends(run.store)
    assert len(done) == 1 and done[0].endswith("(sent)"), done
    report = json.loads(run.send.output())
    assert report["status"] == "sent" and report["failed"] == 0
    assert "status sent" in run.worker.output()
    for proc in run.all:
        assert "Traceback" not in proc.output(), proc.output()[-3000:]
    got = run.received()
    assert got == Counter(run.emails), "a recipient was lost or mailed twice"
    share = shares(done, run.worker.output(), run.send.output())
    print(f"\nshares after the others joined at {joined_at}: {share}")
    assert sum(share.values()) == len(run.emails)
    assert all(n > 0 for n in share.values()), share
    assert db.senders(run.store, run.mailing_id) == []
    run.store.close()


@pytest.mark.slow
@pytest.mark.parametrize("victim", ["daemon", "worker", "send"])
def test_the_survivors_finish_when_one_sender_is_killed(
    tmp_path: Path, smtp_server: SmtpServer, procs: list[Proc], store_url: str, victim: str
) -> None:
    run = Run(tmp_path, store_url, smtp_server, procs, n=200, rate=100)
    killed = getattr(run, victim)
    worker = run.claimers.seen[killed.popen.pid]
    smtp_server.sink.delay = 0.05  # a batch or two after the join: the kill lands mid-send
    target = len(smtp_server.messages) + 20
    wait_for(lambda: len(smtp_server.messages) >= target, 30, "more messages", *run.all)
    killed.signal(signal.SIGKILL)
    assert killed.wait() == -signal.SIGKILL
    # Claimed by the killed sender and not marked: the most that can arrive twice.
    with run.store.connect() as conn:
        in_flight = len(
            conn.execute(
                select(deliveries.c.id).where(
                    deliveries.c.status == "sending", deliveries.c.claimed_by == worker
                )
            ).all()
        )
    survivors = [p for p in run.all if p is not killed]
    for proc in survivors:
        if proc is not run.daemon:
            assert proc.wait(timeout=60) == 0, proc.output()[-3000:]
    wait_for(lambda: status(run.store, run.mailing_id) == "sent", 60, "the send", *survivors)
    if victim != "daemon":
        wait_for(lambda: bool(daemon_sends(run.store)), 30, "the daemon's send job", run.daemon)
        assert daemon_sends(run.store)[-1].endswith("(sent)")
        run.daemon.signal(signal.SIGTERM)
        assert run.daemon.wait() == 0, run.daemon.output()[-3000:]
    for proc in survivors:
        assert "Traceback" not in proc.output(), proc.output()[-3000:]
    got = run.received()
    duplicates = sum(got.values()) - len(got)
    print(f"\nkilled the {victim}: {in_flight} in flight, {duplicates} sent twice")
    assert set(got) == set(run.emails), "a recipient was lost"
    assert duplicates <= in_flight
    counts = db.counts(run.store, run.mailing_id)
    assert counts["sent"] == len(run.emails) and counts["sending"] == counts["queued"] == 0
    run.store.close()
