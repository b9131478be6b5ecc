"""send_mailing end to end: a real store, a real SMTP server, a fake clock."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver.outbox import Progress, send_mailing
from pipeline.deliver.single import send_test
from pipeline.deliver.smtp import SmtpTransport
from pipeline.errors import DeliveryError
from pipeline.store import Store
from pipeline.store import outbox as db
from pipeline.store.schema import deliveries, mailings, rate_limits, suppressions
from tests.deliver.support import add_mailing, add_subscribers
from tests.support.settings import make_settings
from tests.support.smtp import SmtpServer


def smtp_settings(tmp_path: Path, server: SmtpServer, **delivery: Any) -> Settings:
    return make_settings(
        tmp_path,
        delivery={"transport": "smtp", "per_second": 10_000, "batch_size": 50, **delivery},
        smtp={"host": server.host, "port": server.port, "connections": 2, "timeout": 5},
    )


def status_of(store: Store, mailing_id: int) -> str:
    state = db.mailing_state(store, mailing_id)
    assert state is not None
    return state.status


def test_every_recipient_gets_exactly_one_message(
    tmp_path: Path, smtp_server: SmtpServer, store: Store, clock: FakeClock
) -> None:
    settings = smtp_settings(tmp_path, smtp_server)
    members = add_subscribers(store, clock, 120, lists=("members",))
    both = add_subscribers(store, clock, 10, lists=("members", "press"), prefix="beide")
    add_subscribers(store, clock, 5, lists=("press",), prefix="presse")
    mailing_id = add_mailing(store, clock)
    seen: list[Progress] = []
    report = send_mailing(settings, store, mailing_id, clock=clock, progress=seen.append)
    assert (report.sent, report.failed, report.suppressed, report.skipped) == (130, 0, 0, 0)
    assert report.status == "sent"
    got = Counter(smtp_server.sink.recipients())
    assert set(got) == set(members + both)
    assert set(got.values()) == {1}
    assert seen[-1].done == seen[-1].total == 130
    assert db.counts(store, mailing_id)["sent"] == 130
    with store.connect() as conn:
        rows = conn.execute(select(deliveries.c.message_id, deliveries.c.attempts)).all()
    assert all(r.message_id and r.attempts == 1 for r in rows)
    with pytest.raises(DeliveryError, match="already sent"):
        send_mailing(settings, store, mailing_id, clock=clock)
    assert len(smtp_server.messages) == 130


@pytest.mark.parametrize("pipelining", [False, True], ids=["plain", "pipelining"])
def test_faults_are_retried_bounced_and_suppressed(
    tmp_path: Path, smtp_server: SmtpServer, store: Store, clock: FakeClock, pipelining: bool
) -> None:
    smtp_server.sink.pipelining = pipelining
    settings = smtp_settings(tmp_path, smtp_server, retry_base_seconds=60)
    emails = add_subscribers(store, clock, 100)
    bounced = set(emails[10:15])
    greylisted = set(emails[20:25])
    answered: Counter[str] = Counter()

    def rcpt(address: str) -> str | None:
        answered[address] += 1
        if address in bounced:
            return "550 5.1.1 User unknown"
        if address in greylisted and answered[address] == 1:
            return "451 4.7.1 Greylisted"
        return None

    smtp_server.sink.rcpt_reply = rcpt
    # A 421 in the middle and a connection dropped after DATA.
    smtp_server.sink.data_reply = lambda n: "421 4.3.2 Service shutting down" if n == 40 else None
    smtp_server.sink.drop_after_data = lambda n: n == 60
    mailing_id = add_mailing(store, clock)
    start = clock.now()
    report = send_mailing(settings, store, mailing_id, clock=clock)
    assert report.status == "sent"
    assert (report.sent, report.failed) == (95, 5)
    got = Counter(smtp_server.sink.recipients())
    assert set(got) == set(emails) - bounced
    assert set(got.values()) == {1}
    with store.connect() as conn:
        suppressed = {
            r.email for r in conn.execute(select(suppressions.c.email, suppressions.c.reason))
        }
        failed = conn.execute(
            select(deliveries.c.email, deliveries.c.last_error).where(
                deliveries.c.status == "failed"
            )
        ).all()
        retried = conn.execute(select(deliveries.c.email).where(deliveries.c.attempts == 2)).all()
    assert suppressed == bounced
    assert {f.email for f in failed} == bounced
    assert all("5.1.1" in (f.last_error or "") for f in failed)
    assert len(retried) == 5 + 2  # the greylisted five, the 421 and the dropped one
    # Retries waited (on the fake clock) at least the back-off the server asked for.
    assert (clock.now() - start).total_seconds() >= 30
    errors = dict(db.top_errors(store, mailing_id))
    assert errors["RCPT 550 5.1.1 User unknown"] == 5


def test_mailing_pauses_after_failures_in_a_row_and_resumes(
    tmp_path: Path, smtp_server: SmtpServer, store: Store, clock: FakeClock
) -> None:
    """Every recipient of two sends in a row refused: the relay is broken, not the
    addresses. The mailing pauses, nobody is failed for it, and all go out once fixed."""
    settings = smtp_settings(tmp_path, smtp_server, pause_after_failures=2)
    emails = add_subscribers(store, clock, 40)
    smtp_server.sink.rcpt_reply = lambda _a: "554 5.7.1 Relay access denied"
    mailing_id = add_mailing(store, clock)
    report = send_mailing(settings, store, mailing_id, clock=clock)
    assert report.status == "paused"
    assert re.match(r"every recipient of 2 sends in a row was refused", report.paused_reason or "")
    assert "554 5.7.1 Relay access denied" in (report.paused_reason or "")
    assert report.failed == 0
    counts = db.counts(store, mailing_id)
    assert counts["sending"] == 0 and counts["failed"] == 0 and counts["queued"] == 40
    state = db.mailing_state(store, mailing_id)
    assert state is not None and state.resume_at is not None and state.resume_tries == 1
    # The operator fixes the relay and runs send again: everyone gets the mail.
    smtp_server.sink.rcpt_reply = lambda _a: None
    report = send_mailing(settings, store, mailing_id, clock=clock)
    assert report.status == "sent"
    assert report.failed == 0
    assert sorted(smtp_server.sink.recipients()) == sorted(emails)
    state = db.mailing_state(store, mailing_id)
    assert state is not None and state.resume_tries == 0


def test_unsubscribe_during_the_send_takes_effect(
    tmp_path: Path, smtp_server: SmtpServer, store: Store, clock: FakeClock
) -> None:
    from pipeline.audience import suppress

    settings = smtp_settings(tmp_path, smtp_server, batch_size=20)
    emails = add_subscribers(store, clock, 60)
    late = emails[-1]
    mailing_id = add_mailing(store, clock)

    def progress(p: Progress) -> None:
        if p.sent == 20:
            suppress(store, late, "unsubscribed", clock=clock)

    report = send_mailing(settings, store, mailing_id, clock=clock, progress=progress)
    assert late not in smtp_server.sink.recipients()
    assert report.sent == 59
    assert db.counts(store, mailing_id)["suppressed"] == 1


def test_suppressed_addresses_get_no_delivery(
    tmp_path: Path, smtp_server: SmtpServer, store: Store, clock: FakeClock
) -> None:
    from pipeline.audience import suppress

    settings = smtp_settings(tmp_path, smtp_server)
    emails = add_subscribers(store, clock, 10)
    suppress(store, emails[3], "hard_bounce", clock=clock)
    mailing_id = add_mailing(store, clock)
    report = send_mailing(settings, store, mailing_id, clock=clock)
    assert report.sent == 9 and emails[3] not in smtp_server.sink.recipients()


def test_dry_run_and_test_copy_change_nothing(
    tmp_path: Path, smtp_server: SmtpServer, store: Store, clock: FakeClock
) -> None:
    settings = smtp_settings(tmp_path, smtp_server)
    add_subscribers(store, clock, 25)
    mailing_id = add_mailing(store, clock)
    report = send_mailing(settings, store, mailing_id, clock=clock, dry_run=True)
    assert (report.built, report.sent) == (25, 0)
    assert smtp_server.messages == []
    transport = SmtpTransport(host=smtp_server.host, port=smtp_server.port, connections=1)
    try:
        result = send_test(
            settings,
            store,
            mailing_id,
            "redaktion@junge-buergermeister.example",
            clock=clock,
            transport=transport,
        )
    finally:
        transport.close()
    assert result.ok
    (copy,) = smtp_server.messages
    assert copy.message["X-Rundbrief-Test"] == "yes"
    assert copy.message["Subject"].startswith("[TEST] ")
    assert status_of(store, mailing_id) == "approved"
    assert sum(db.counts(store, mailing_id).values()) == 0


@pytest.mark.parametrize(
    ("status", "message"), [("draft", "approve it"), ("cancelled", "cancelled")]
)
def test_unsendable_mailings_are_refused(
    tmp_path: Path,
    smtp_server: SmtpServer,
    store: Store,
    clock: FakeClock,
    status: str,
    message: str,
) -> None:
    settings = smtp_settings(tmp_path, smtp_server)
    mailing_id = add_mailing(store, clock, status=status)
    with pytest.raises(DeliveryError, match=message):
        send_mailing(settings, store, mailing_id, clock=clock)


def test_press_release_waits_for_its_embargo(
    tmp_path: Path, smtp_server: SmtpServer, store: Store, clock: FakeClock
) -> None:
    from datetime import timedelta

    settings = smtp_settings(tmp_path, smtp_server)
    add_subscribers(store, clock, 3, lists=("press",))
    mailing_id = add_mailing(
        store, clock, kind="press", lists=("press",), send_at=clock.now() + timedelta(hours=2)
    )
    # named in the organisation's time zone: 08:00 UTC + 2 h is 12:00 in Berlin
    with pytest.raises(DeliveryError, match=r"send time 2026-06-19 12:00 \(Europe/Berlin\)"):
        send_mailing(settings, store, mailing_id, clock=clock)
    clock.advance(hours=2)
    assert send_mailing(settings, store, mailing_id, clock=clock).sent == 3


def test_stop_gives_claimed_rows_back_and_a_rerun_finishes(
    tmp_path: Path, smtp_server: SmtpServer, store: Store, clock: FakeClock
) -> None:
    settings = smtp_settings(tmp_path, smtp_server, batch_size=50)
    emails = add_subscribers(store, clock, 80)
    mailing_id = add_mailing(store, clock)
    stop_after: list[int] = []

    def stop() -> bool:
        return len(smtp_server.messages) >= 16

    report = send_mailing(settings, store, mailing_id, clock=clock, stop=stop)
    assert report.stopped and status_of(store, mailing_id) == "sending"
    assert db.counts(store, mailing_id)["sending"] == 0
    report = send_mailing(settings, store, mailing_id, clock=clock)
    assert report.status == "sent" and report.skipped >= 16
    assert Counter(smtp_server.sink.recipients()) == Counter(emails)
    assert not stop_after


def test_rows_of_a_dead_worker_are_reclaimed(
    tmp_path: Path, smtp_server: SmtpServer, store: Store, clock: FakeClock
) -> None:
    from datetime import timedelta

    settings = smtp_settings(tmp_path, smtp_server, lease_seconds=600)
    add_subscribers(store, clock, 30)
    mailing_id = add_mailing(store, clock)
    send_mailing(settings, store, mailing_id, clock=clock, stop=lambda: True)  # records only
    with store.begin() as conn:
        # 10 rows held by a process of this host that no longer exists, 10 by a worker
        # elsewhere whose lease has not run out yet.
        import socket

        ids = [r.id for r in conn.execute(select(deliveries.c.id).order_by(deliveries.c.id))]
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(ids[:10]))
            .values(
                status="sending",
                claimed_by=f"{socket.gethostname()}:999999:dead",
                claimed_at=clock.now(),
            )
        )
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(ids[10:20]))
            .values(status="sending", claimed_by="other-host:1:abc", claimed_at=clock.now())
        )
    report = send_mailing(settings, store, mailing_id, clock=clock, wait_for_retries=False)
    assert report.sent >= 20
    # The other host's rows come back once the lease ran out (the loop waits for it).
    assert report.status == "sent"
    assert report.sent == 30
    assert clock.now() - timedelta(seconds=600) >= conn_time(store)


def conn_time(store: Store) -> Any:
    with store.connect() as conn:
        return conn.execute(select(mailings.c.sending_started_at)).scalar()


def test_rate_limit_is_kept(
    tmp_path: Path, smtp_server: SmtpServer, store: Store, clock: FakeClock
) -> None:
    settings = smtp_settings(tmp_path, smtp_server, per_second=10, batch_size=20)
    add_subscribers(store, clock, 50)
    mailing_id = add_mailing(store, clock)
    start = clock.monotonic()
    report = send_mailing(settings, store, mailing_id, clock=clock)
    assert report.sent == 50
    elapsed = clock.monotonic() - start
    assert 3.5 <= elapsed <= 6.0  # 50 messages at 10/s with a 1 s burst
    with store.connect() as conn:
        assert conn.execute(select(rate_limits.c.hour_count)).scalar() == 50
