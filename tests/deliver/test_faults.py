"""Faults while sending (issue 9, defects 1, 5, 7 and the 421 of 9), through the real
outbox against real servers on loopback: what is retried, what pauses, what is asked
about, and that nobody gets a mail twice where we could know better."""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver.outbox import send_mailing
from pipeline.deliver.providers import provider_settings
from pipeline.deliver.providers.postmark.transport import PostmarkTransport
from pipeline.store import Store
from pipeline.store import outbox as db
from pipeline.store.schema import deliveries
from tests.deliver.support import add_mailing, add_subscribers
from tests.support.settings import make_settings
from tests.support.smtp import SmtpServer


def smtp_settings(tmp_path: Path, server: SmtpServer, **delivery: Any) -> Settings:
    return make_settings(
        tmp_path,
        delivery={"transport": "smtp", "per_second": 10_000, "batch_size": 100, **delivery},
        smtp={"host": server.host, "port": server.port, "connections": 2, "timeout": 5},
    )


def attempts(store: Store) -> Counter[int]:
    with store.connect() as conn:
        return Counter(a for (a,) in conn.execute(select(deliveries.c.attempts)))


# --- SMTP ------------------------------------------------------------------------------


def test_refused_connections_are_retried_and_never_pause(
    tmp_path: Path, store: Store, clock: FakeClock
) -> None:
    """The relay is down (connections refused) for the first run: nothing pauses, nothing
    fails; when it is back the next run delivers everyone once."""
    server = SmtpServer()  # not started yet: its port refuses connections
    settings = smtp_settings(tmp_path, server)
    emails = add_subscribers(store, clock, 150)
    mailing_id = add_mailing(store, clock)
    report = send_mailing(settings, store, mailing_id, clock=clock, wait_for_retries=False)
    assert report.status == "sending", report.paused_reason
    counts = db.counts(store, mailing_id)
    assert counts["failed"] == 0 and counts["retry"] == 150
    server.start()
    try:
        clock.advance(hours=1)
        report = send_mailing(settings, store, mailing_id, clock=clock)
        assert report.status == "sent"
        assert sorted(server.sink.recipients()) == sorted(emails)
    finally:
        server.stop()


def test_a_busy_relay_for_a_while_never_pauses(
    tmp_path: Path, smtp_server: SmtpServer, store: Store, clock: FakeClock
) -> None:
    """452 4.3.1 (insufficient storage) for the first 200 recipients: a server problem,
    retried with back-off; the mailing completes, nobody failed, nobody twice."""
    settings = smtp_settings(tmp_path, smtp_server)
    emails = add_subscribers(store, clock, 120)
    counter = itertools.count()
    smtp_server.sink.rcpt_reply = lambda _a: (
        "452 4.3.1 Insufficient system storage" if next(counter) < 200 else None
    )
    mailing_id = add_mailing(store, clock)
    report = send_mailing(settings, store, mailing_id, clock=clock)
    assert report.status == "sent", report.paused_reason
    assert report.failed == 0
    assert sorted(smtp_server.sink.recipients()) == sorted(emails)


def test_a_refused_sender_fails_nobody_and_pauses_until_fixed(
    tmp_path: Path, smtp_server: SmtpServer, store: Store, clock: FakeClock
) -> None:
    """MAIL FROM answered 550: about the sender, not the recipients. The mailing pauses
    with the reason and a time to try again; every delivery is sent once it is fixed."""
    settings = smtp_settings(tmp_path, smtp_server)
    emails = add_subscribers(store, clock, 90)
    smtp_server.sink.mail_reply = lambda _a: "550 5.7.1 Sender address rejected: not owned"
    mailing_id = add_mailing(store, clock)
    report = send_mailing(settings, store, mailing_id, clock=clock)
    assert report.status == "paused"
    assert "sender" in (report.paused_reason or "")
    assert "550 5.7.1 Sender address rejected" in (report.paused_reason or "")
    assert report.failed == 0
    counts = db.counts(store, mailing_id)
    assert counts["failed"] == 0 and counts["queued"] == 90
    assert set(attempts(store)) == {0}  # the refused tries did not count
    state = db.mailing_state(store, mailing_id)
    assert state is not None and state.resume_at is not None
    assert state.resume_at > clock.now()
    smtp_server.sink.mail_reply = lambda _a: None
    report = send_mailing(settings, store, mailing_id, clock=clock)
    assert report.status == "sent" and report.failed == 0
    assert sorted(smtp_server.sink.recipients()) == sorted(emails)


@pytest.mark.parametrize("pipelining", [False, True], ids=["plain", "pipelining"])
def test_a_per_connection_limit_means_reconnect_not_back_off(
    tmp_path: Path, smtp_server: SmtpServer, store: Store, clock: FakeClock, pipelining: bool
) -> None:
    """A relay that takes 10 messages per connection and then answers MAIL with 421:
    the message goes at once on a new connection; no back-off, no second attempt."""
    smtp_server.sink.per_connection_limit = 10
    smtp_server.sink.pipelining = pipelining
    settings = smtp_settings(tmp_path, smtp_server)
    emails = add_subscribers(store, clock, 200)
    mailing_id = add_mailing(store, clock)
    started = clock.now()
    report = send_mailing(settings, store, mailing_id, clock=clock)
    assert report.status == "sent"
    assert sorted(smtp_server.sink.recipients()) == sorted(emails)
    assert attempts(store) == Counter({1: 200})
    # No back-off slept on the (fake) clock: 200 messages at 10,000/s.
    assert (clock.now() - started).total_seconds() < 1


def test_a_connection_lost_after_the_data_is_resent_late_and_counted(
    tmp_path: Path, smtp_server: SmtpServer, store: Store, clock: FakeClock
) -> None:
    """The server hangs up after receiving a message without answering: it may have
    taken it. SMTP cannot be asked, so the message goes again only after
    ``unknown_wait_seconds`` and is counted as a possible duplicate."""
    settings = smtp_settings(tmp_path, smtp_server, unknown_wait_seconds=900)
    add_subscribers(store, clock, 30)
    smtp_server.sink.drop_after_data = lambda n: n == 7
    mailing_id = add_mailing(store, clock)
    started = clock.now()
    report = send_mailing(settings, store, mailing_id, clock=clock)
    assert report.status == "sent"
    assert report.possible_duplicates == 1
    assert db.possible_duplicates(store, mailing_id) == 1
    assert (clock.now() - started).total_seconds() >= 900
    with store.connect() as conn:
        flagged = conn.execute(
            select(deliveries.c.attempts, deliveries.c.unknown_at).where(
                deliveries.c.possible_duplicate.is_(True)
            )
        ).one()
    assert flagged.attempts == 2 and flagged.unknown_at is None


def test_permanent_refusals_of_single_recipients_never_pause(
    tmp_path: Path, smtp_server: SmtpServer, store: Store, clock: FakeClock
) -> None:
    """Every third address unknown (550 5.1.1): those fail and are suppressed, the rest
    is delivered; no send had every recipient refused, so nothing pauses."""
    settings = smtp_settings(tmp_path, smtp_server, pause_after_failures=1)
    emails = add_subscribers(store, clock, 90)
    unknown = set(emails[::3])
    smtp_server.sink.rcpt_reply = lambda a: "550 5.1.1 User unknown" if a in unknown else None
    mailing_id = add_mailing(store, clock)
    report = send_mailing(settings, store, mailing_id, clock=clock)
    assert report.status == "sent"
    assert report.failed == len(unknown)
    assert set(smtp_server.sink.recipients()) == set(emails) - unknown


def test_a_relay_refusing_everyone_suppresses_nobody(
    tmp_path: Path, smtp_server: SmtpServer, store: Store, clock: FakeClock
) -> None:
    """A misconfigured relay that answers 550 5.1.1 to every recipient: the sending is
    broken, so nobody is suppressed as a hard bounce and the deliveries are put back."""
    from pipeline.audience.suppression import is_suppressed

    settings = smtp_settings(tmp_path, smtp_server, pause_after_failures=2, batch_size=20)
    emails = add_subscribers(store, clock, 100)
    smtp_server.sink.rcpt_reply = lambda _a: "550 5.1.1 User unknown"
    mailing_id = add_mailing(store, clock)
    report = send_mailing(settings, store, mailing_id, clock=clock)
    assert report.status == "paused"
    assert db.counts(store, mailing_id)["failed"] == 0
    assert not any(is_suppressed(store, e) for e in emails)


# --- Postmark --------------------------------------------------------------------------


def postmark_settings(tmp_path: Path, server: HTTPServer, **delivery: Any) -> Settings:
    return make_settings(
        tmp_path,
        delivery={"transport": "postmark", "per_second": 10_000, "batch_size": 200, **delivery},
        postmark={
            "api_key_env": "TEST_PROVIDER_KEY",
            "base_url": server.url_for("").rstrip("/"),
            "timeout": 5,
        },
    )


class FakePostmark:
    """/email/batch and /messages/outbound with faults; remembers what it accepted."""

    def __init__(self) -> None:
        self.accepted: dict[str, int] = Counter()  # delivery id -> copies accepted
        self.requests = 0
        self.fault: Any = None  # request number -> Response to answer instead, or None
        self.lock = threading.Lock()
        self.hold: threading.Event | None = None  # accept, then answer only once set

    def batch(self, request: Request) -> Response:
        with self.lock:
            self.requests += 1
            number = self.requests
        answer = self.fault(number) if self.fault else None
        if answer is not None:
            return answer  # type: ignore[no-any-return]
        messages = request.get_json()
        with self.lock:
            for m in messages:
                self.accepted[m["Metadata"]["delivery_id"]] += 1
        if self.hold is not None:
            self.hold.wait(5)  # the client gave up long before
        body = [
            {"ErrorCode": 0, "Message": "OK", "MessageID": f"pm-{m['Metadata']['delivery_id']}"}
            for m in messages
        ]
        return Response(json.dumps(body), 200, content_type="application/json")

    def search(self, request: Request) -> Response:
        wanted = request.args["metadata_delivery_id"]
        found = [{"MessageID": f"pm-{wanted}", "Metadata": {"delivery_id": wanted}}]
        messages = found if self.accepted.get(wanted) else []
        body = {"TotalCount": len(messages), "Messages": messages}
        return Response(json.dumps(body), 200, content_type="application/json")

    def serve(self, server: HTTPServer) -> FakePostmark:
        server.expect_request("/email/batch", method="POST").respond_with_handler(self.batch)
        server.expect_request("/messages/outbound", method="GET").respond_with_handler(self.search)
        return self


FIRST_REQUEST_FAULTS = {
    "500": Response("oops", 500),
    "429-no-retry-after": Response('{"ErrorCode": 429, "Message": "Rate limit"}', 429),
    "429-retry-after-0": Response("{}", 429, headers={"Retry-After": "0"}),
    "html-error-page": Response("<html><body>502 Bad Gateway</body></html>", 502),
}


@pytest.mark.parametrize("fault", sorted(FIRST_REQUEST_FAULTS))
def test_one_transient_postmark_error_does_not_pause_the_mailing(
    tmp_path: Path, httpserver: HTTPServer, store: Store, clock: FakeClock, fault: str
) -> None:
    settings = postmark_settings(tmp_path, httpserver)
    add_subscribers(store, clock, 200)
    mailing_id = add_mailing(store, clock)
    fake = FakePostmark().serve(httpserver)
    fake.fault = lambda n: FIRST_REQUEST_FAULTS[fault] if n == 1 else None
    transport = PostmarkTransport(provider_settings(settings, "postmark"), "pm-token")
    try:
        report = send_mailing(settings, store, mailing_id, clock=clock, transport=transport)
    finally:
        transport.close()
    assert report.status == "sent", report.paused_reason
    assert report.failed == 0
    assert len(fake.accepted) == 200 and set(fake.accepted.values()) == {1}


def test_postmark_412_pauses_without_failing_anyone(
    tmp_path: Path, httpserver: HTTPServer, store: Store, clock: FakeClock
) -> None:
    """Error 412 on every message (the account may not send yet) fails no delivery."""
    settings = postmark_settings(tmp_path, httpserver)
    add_subscribers(store, clock, 200)
    mailing_id = add_mailing(store, clock)
    fake = FakePostmark().serve(httpserver)

    def pending_account(_n: int) -> Response:
        body = [{"ErrorCode": 412, "Message": "Account pending approval"}] * 200
        return Response(json.dumps(body), 200, content_type="application/json")

    fake.fault = pending_account
    transport = PostmarkTransport(provider_settings(settings, "postmark"), "pm-token")
    try:
        report = send_mailing(settings, store, mailing_id, clock=clock, transport=transport)
        assert report.status == "paused"
        assert "412" in (report.paused_reason or "")
        assert db.counts(store, mailing_id)["failed"] == 0
        fake.fault = None  # the account was approved
        report = send_mailing(settings, store, mailing_id, clock=clock, transport=transport)
    finally:
        transport.close()
    assert report.status == "sent" and report.failed == 0
    assert len(fake.accepted) == 200 and set(fake.accepted.values()) == {1}


def test_an_unanswered_postmark_batch_is_confirmed_not_sent_twice(
    tmp_path: Path, httpserver: HTTPServer, store: Store, clock: FakeClock
) -> None:
    """Postmark accepts the batch but its answer comes after our timeout: the outbox
    asks the message search before sending again and marks all 200 sent, once each."""
    settings = postmark_settings(tmp_path, httpserver)
    add_subscribers(store, clock, 200)
    mailing_id = add_mailing(store, clock)
    fake = FakePostmark().serve(httpserver)
    fake.hold = threading.Event()
    transport = PostmarkTransport(
        replace(provider_settings(settings, "postmark"), timeout=0.5), "t"
    )
    try:
        report = send_mailing(
            settings, store, mailing_id, clock=clock, transport=transport, wait_for_retries=False
        )
        fake.hold.set()
        assert report.status == "sending"
        assert db.counts(store, mailing_id)["retry"] == 200
        fake.hold = None
        clock.advance(seconds=settings.delivery.unknown_wait_seconds)
        report = send_mailing(settings, store, mailing_id, clock=clock, transport=transport)
    finally:
        transport.close()
    assert report.status == "sent"
    assert report.confirmed == 200 and report.possible_duplicates == 0
    assert fake.requests == 1
    assert len(fake.accepted) == 200 and set(fake.accepted.values()) == {1}
    with store.connect() as conn:
        ids = {r.id: r.provider_message_id for r in conn.execute(select(deliveries))}
    assert all(pid == f"pm-{did}" for did, pid in ids.items())
