"""The system mail outbox: confirmations, notifications and test copies are recorded
before they are sent, survive a transport outage and go out exactly once when drained."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline import notify
from pipeline.clock import FakeClock, SystemClock
from pipeline.config import Settings
from pipeline.deliver.single import plain_message, send_test
from pipeline.deliver.system import drain_system_mail, enqueue
from pipeline.schedule import jobs
from pipeline.store import Store
from pipeline.store import system_mail as db
from pipeline.store.schema import system_mail
from tests.deliver.support import add_mailing
from tests.support.cli import run_cli
from tests.support.settings import make_settings
from tests.support.smtp import MailSink, SmtpServer, free_port

EDITOR = "redaktion@junge-buergermeister.example"
OPERATOR = "betrieb@junge-buergermeister.example"


def smtp_settings(tmp_path: Path, port: int, **smtp: Any) -> Settings:
    return make_settings(
        tmp_path,
        web={"base_url": "http://rundbrief.junge-buergermeister.example"},
        delivery={"transport": "smtp", "per_second": 10_000},
        smtp={"host": "127.0.0.1", "port": port, "timeout": 2, "connections": 1, **smtp},
        sender={"operator": OPERATOR},
    )


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def server_later(port: int) -> Iterator[Callable[..., SmtpServer]]:
    """Starts the real SMTP server on ``port`` when the test says it is back."""
    started: list[SmtpServer] = []

    def start(sink: MailSink | None = None) -> SmtpServer:
        server = SmtpServer(sink, port=port).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_a_notification_survives_a_transport_outage(
    tmp_path: Path, port: int, store: Store, clock: FakeClock, server_later: Callable[..., Any]
) -> None:
    settings = smtp_settings(tmp_path, port)  # nothing listens on the port yet
    assert notify.notify(
        settings, store, key="test:1", subject="Probe", body="Hallo Betrieb", clock=clock
    )
    assert not notify.notify(
        settings, store, key="test:1", subject="Probe", body="Hallo Betrieb", clock=clock
    )
    (mail,) = db.list_mail(store)
    assert (mail.kind, mail.status, mail.recipient) == ("notification", "retry", OPERATOR)
    assert "cannot connect" in (mail.last_error or "")

    server = server_later()
    assert drain_system_mail(store, settings, None, clock).claimed == 0  # not due yet
    clock.advance(minutes=5)
    result = jobs.mail_job(jobs.JobContext(settings=settings, store=store, clock=clock))
    assert result.outcome == "ok" and result.detail.startswith("1 sent")
    assert drain_system_mail(store, settings, None, clock).claimed == 0
    (received,) = server.messages
    assert received.rcpt_tos == [OPERATOR] and "Probe" in str(received.message["Subject"])
    assert received.message["Message-ID"] == mail.message_id  # built once, at enqueue


def test_a_test_copy_is_queued_when_the_transport_is_down_and_the_editor_is_told(
    tmp_path: Path, port: int, store: Store, clock: FakeClock, server_later: Callable[..., Any]
) -> None:
    settings = smtp_settings(tmp_path, port)
    mailing_id = add_mailing(store, clock)
    result = send_test(settings, store, mailing_id, EDITOR, clock=clock)
    assert not result.ok and not result.permanent
    assert "queued and sent again automatically" in (result.error or "")

    server = server_later()
    clock.advance(minutes=5)
    assert drain_system_mail(store, settings, None, clock).sent == 1
    (copy,) = server.messages
    assert copy.rcpt_tos == [EDITOR] and copy.message["X-Rundbrief-Test"] == "yes"

    # Once the server is there, the editor gets the result at once.
    assert send_test(settings, store, mailing_id, EDITOR, clock=clock).ok
    assert len(server.messages) == 2
    counts = db.counts(store)
    assert counts["sent"] == 2 and counts["retry"] == counts["queued"] == 0


def test_a_permanent_refusal_fails_the_mail_without_retries(
    tmp_path: Path, port: int, store: Store, clock: FakeClock, server_later: Callable[..., Any]
) -> None:
    settings = smtp_settings(tmp_path, port)
    server = server_later(MailSink(rcpt_reply=lambda _a: "550 5.1.1 No such user"))
    mailing_id = add_mailing(store, clock)
    result = send_test(settings, store, mailing_id, EDITOR, clock=clock)
    assert not result.ok and result.permanent and "550 5.1.1" in (result.error or "")
    clock.advance(hours=1)
    assert drain_system_mail(store, settings, None, clock).claimed == 0
    assert db.counts(store)["failed"] == 1 and server.messages == []


def _enqueue_many(settings: Settings, store: Store, clock: Any, count: int) -> None:
    for n in range(count):
        message = plain_message(
            settings, to=f"person{n}@verein.example", subject=f"Nr. {n}", text="x", clock=clock
        )
        enqueue(store, kind="notification", message=message, clock=clock)


def _drain_concurrently(url: str, settings: Settings, clock: FakeClock, drainers: int) -> None:
    stores = [Store.open(url) for _ in range(drainers)]
    barrier = threading.Barrier(drainers)
    errors: list[BaseException] = []

    def run(own: Store) -> None:
        try:
            barrier.wait()
            drain_system_mail(own, settings, None, clock)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for own in stores:
        own.close()
    assert not errors, errors


def _several_drainers(url: str, tmp_path: Path, clock: FakeClock, server: SmtpServer) -> None:
    settings = smtp_settings(tmp_path, server.port)
    store = Store.open(url)
    try:
        _enqueue_many(settings, store, clock, 120)
        _drain_concurrently(url, settings, clock, 4)
        received = sorted(r for m in server.messages for r in m.rcpt_tos)
        assert received == sorted(f"person{n}@verein.example" for n in range(120))
        assert db.counts(store)["sent"] == 120
    finally:
        store.close()


def test_several_drainers_never_send_one_message_twice(
    tmp_path: Path, settings: Settings, clock: FakeClock, smtp_server: SmtpServer
) -> None:
    _several_drainers(settings.database_url(), tmp_path, clock, smtp_server)


@pytest.mark.postgres
def test_several_drainers_on_postgres(
    tmp_path: Path, pg_url: str, clock: FakeClock, smtp_server: SmtpServer
) -> None:
    _several_drainers(pg_url, tmp_path, clock, smtp_server)


def test_mail_drain_command(
    tmp_path: Path, port: int, server_later: Callable[..., Any], capsys: Any
) -> None:
    from tests.deliver.support import write_config

    config = write_config(tmp_path, smtp=SmtpServer(port=port))  # not started: down
    settings = smtp_settings(tmp_path, port)
    store = Store.open(settings.database_url())
    _enqueue_many(settings, store, SystemClock(), 2)  # the command runs on the real clock
    store.close()
    down = run_cli(capsys, config, "mail", "drain", "--json")
    assert down.returncode == 1 and down.json()["retrying"] == 2
    server = server_later()
    listed = run_cli(capsys, config, "mail", "list", "--json").json()
    assert listed["counts"]["retry"] == 2
    # The retry is not due yet by the real clock; the command takes what is due only.
    assert run_cli(capsys, config, "mail", "drain").stdout.startswith("No system mail due")
    store = Store.open(settings.database_url())
    with store.begin() as conn:
        conn.execute(system_mail.update().values(next_attempt_at=None, status="queued"))
    store.close()
    done = run_cli(capsys, config, "mail", "drain", "--json")
    assert done.returncode == 0 and done.json()["sent"] == 2
    assert len(server.messages) == 2
