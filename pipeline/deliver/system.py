"""System mail: what Rundbrief sends on its own goes through an outbox of its own.

Double opt-in confirmations, welcome mails, operator notifications and editors' test
copies are built completely (headers, Message-ID, body; for HTTP providers the same as
fields) and recorded in ``system_mail`` *before* anything is sent:

    enqueue(store, kind=..., message=..., clock=...)         -> id (status queued)
    enqueue_once(store, once_key=..., ...)    -> id, or None: recorded before (a welcome)
    drain_system_mail(store, settings, transport_factory, clock)
      ├─ claim due messages (queued, retry whose time came, sending past the lease)
      ├─ open the transport only when something is due
      ├─ send, then decide each one with the deliveries' rules (``retry.decide``):
      │    sent · retry at T (back-off, Retry-After) · failed (permanent refusal, too old)
      └─ a sent confirmation notes ``confirm_sent_at`` on its subscription
    SystemMailWorker: one long-lived thread that drains when woken (the web app wakes
      it after a sign-up) and every minute; the daemon's ``mail`` job and
      ``rundbrief mail drain`` drain too.

A crash between claim and mark leaves the row ``sending``; it is claimed again after
``delivery.lease_seconds``, so at most that message can arrive twice (with the same
Message-ID). Several drainers (daemon, web worker, command, on one or several machines)
never take the same row at once (``store.system_mail.claim``).
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import pipeline.store.system_mail as db
from pipeline.audience import note_confirmation_sent
from pipeline.clock import Clock, SystemClock
from pipeline.config import Settings
from pipeline.deliver import (
    Attachment,
    Blame,
    MessageParts,
    OutgoingMessage,
    SendResult,
    Transport,
)
from pipeline.deliver.factory import transport_from_settings
from pipeline.deliver.retry import Outcome, RetryPolicy, decide
from pipeline.errors import RundbriefError
from pipeline.store import Store

log = logging.getLogger(__name__)

TransportFactory = Callable[[], Transport]
KINDS = db.KINDS
# How many messages one claim takes; a drain claims again until nothing is due.
BATCH = 50


@dataclass
class DrainReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    # per system mail id: the last attempt's result (``send_test`` reads its own)
    results: dict[int, SendResult] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "claimed": self.claimed,
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "errors": self.errors,
        }


def enqueue(
    store: Store,
    *,
    kind: str,
    message: OutgoingMessage,
    clock: Clock,
    subscriber_id: int | None = None,
    list_name: str | None = None,
) -> int:
    """Record a finished message for sending; its id. Nothing is sent here.

    ``message.parts`` (the fields HTTP providers post) should be filled: the transport
    that drains it is only known then.
    """
    return db.add(
        store,
        kind=kind,
        recipient=message.recipient,
        envelope_from=message.envelope_from,
        message_id=message.message_id,
        data=message.data,
        parts=_parts_json(message.parts),
        now=clock.now(),
        subscriber_id=subscriber_id,
        list_name=list_name,
    )


def enqueue_once(
    store: Store,
    *,
    once_key: str,
    kind: str,
    message: OutgoingMessage,
    clock: Clock,
    subscriber_id: int | None = None,
    list_name: str | None = None,
) -> int | None:
    """``enqueue`` a message that may go out once only (a welcome mail): its id, or None
    when a message of ``once_key`` was recorded before, whoever recorded it."""
    return db.add_once(
        store,
        once_key=once_key,
        kind=kind,
        recipient=message.recipient,
        envelope_from=message.envelope_from,
        message_id=message.message_id,
        data=message.data,
        parts=_parts_json(message.parts),
        now=clock.now(),
        subscriber_id=subscriber_id,
        list_name=list_name,
    )


def _parts_json(parts: MessageParts | None) -> dict[str, Any] | None:
    """The parts as the store keeps them (JSON): attachments' bytes in base64."""
    if parts is None:
        return None
    values = asdict(parts)
    values["attachments"] = [
        {"name": a.name, "content_type": a.content_type, "data": base64.b64encode(a.data).decode()}
        for a in parts.attachments
    ]
    return values


def _outgoing(mail: db.SystemMail, wants_parts: bool) -> OutgoingMessage:
    parts = None
    if wants_parts and mail.parts is not None:
        values = dict(mail.parts)
        values["headers"] = tuple((str(k), str(v)) for k, v in values.get("headers") or ())
        values["attachments"] = tuple(
            Attachment(str(a["name"]), str(a["content_type"]), base64.b64decode(a["data"]))
            for a in values.get("attachments") or ()
        )
        parts = MessageParts(**values)
    return OutgoingMessage(
        None, mail.envelope_from, mail.recipient, mail.message_id, mail.data, parts=parts
    )


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _default_factory(settings: Settings) -> TransportFactory:
    def make() -> Transport:
        return transport_from_settings(settings)

    return make


def drain_system_mail(
    store: Store,
    settings: Settings,
    transport_factory: TransportFactory | None = None,
    clock: Clock | None = None,
    *,
    ids: Sequence[int] | None = None,
    transport: Transport | None = None,
    worker: str | None = None,
) -> DrainReport:
    """Send the system mail that is due (only ``ids`` if given); safe in several processes.

    ``transport`` (kept open) or ``transport_factory`` (opened when something is due,
    closed at the end; default: the configured transport). Stops early when the
    transport is down: what is left waits for its next attempt.
    """
    clock = clock or SystemClock()
    me = worker or _worker_id()
    policy = RetryPolicy.from_settings(settings.delivery)
    lease = timedelta(seconds=settings.delivery.lease_seconds)
    report = DrainReport()
    opened: Transport | None = None
    try:
        while True:
            now = clock.now()
            claimed = db.claim(
                store, worker=me, now=now, lease_before=now - lease, limit=BATCH, ids=ids
            )
            if not claimed:
                break
            report.claimed += len(claimed)
            current = transport or opened
            results: list[SendResult]
            if current is None:
                try:
                    current = opened = (transport_factory or _default_factory(settings))()
                except RundbriefError as exc:
                    results = [_down(m, f"no transport: {exc}") for m in claimed]
                    _settle(store, claimed, results, policy, me, clock, report)
                    break
            results = _send(current, claimed)
            _settle(store, claimed, results, policy, me, clock, report)
            if ids is not None or any(r.blame is Blame.PEER and not r.ok for r in results):
                break  # what was asked for is done, or the peer is down: try later
    finally:
        if opened is not None:
            opened.close()
    if report.claimed:
        log.info("system mail drained", extra=report.as_json())
    return report


def _down(mail: db.SystemMail, error: str) -> SendResult:
    return SendResult(None, mail.recipient, False, error=error, blame=Blame.PEER)


def _send(transport: Transport, claimed: Sequence[db.SystemMail]) -> list[SendResult]:
    wants_parts = bool(getattr(transport, "wants_parts", False))
    try:
        results = transport.send([_outgoing(m, wants_parts) for m in claimed])
    except RundbriefError as exc:  # the transport itself is dead (login refused, ...)
        return [_down(m, str(exc)) for m in claimed]
    if len(results) != len(claimed):
        return [_down(m, f"transport returned {len(results)} results") for m in claimed]
    return results


def _settle(
    store: Store,
    claimed: Sequence[db.SystemMail],
    results: Sequence[SendResult],
    policy: RetryPolicy,
    worker: str,
    clock: Clock,
    report: DrainReport,
) -> None:
    now = clock.now()
    outcomes: list[db.MailOutcome] = []
    for mail, result in zip(claimed, results, strict=True):
        report.results[mail.id] = result
        decision = decide(
            result, attempts=mail.attempts, queued_at=mail.created_at, now=now, policy=policy
        )
        status, at, counts = str(decision.outcome), decision.next_attempt_at, True
        if decision.outcome == Outcome.REQUEUE:
            # The sender or the account was refused: no pause to wait in here, so
            # back off like the peer's trouble, without spending an attempt.
            at = now + policy.delay(mail.attempts)
            status, counts = "retry", False
            if at - mail.created_at > policy.max_age:
                status, at = "failed", None
        outcomes.append(
            db.MailOutcome(
                mail.id,
                status,
                error=decision.reason,
                next_attempt_at=at,
                provider_message_id=result.provider_message_id,
                attempt_counts=counts,
            )
        )
        if status == "sent":
            report.sent += 1
        elif status == "failed":
            report.failed += 1
            report.errors.append(f"{mail.kind} to {mail.recipient}: {decision.reason}")
            log.warning(
                "system mail failed",
                extra={"kind": mail.kind, "mail": mail.id, "error": decision.reason},
            )
        else:
            report.retrying += 1
            report.errors.append(f"{mail.kind} to {mail.recipient}: {decision.reason}")
    # Marked right after the transport answered: a crash from here on resends nothing.
    db.record(store, outcomes, worker=worker, now=now)
    for mail, outcome in zip(claimed, outcomes, strict=True):
        if outcome.status == "sent" and mail.kind == "confirmation" and mail.subscriber_id:
            note_confirmation_sent(store, mail.subscriber_id, mail.list_name or "", at=now)


class SystemMailWorker:
    """One long-lived thread that drains system mail when woken and every ``interval``.

    The web app keeps one and wakes it after recording a sign-up, so the confirmation
    goes out within moments while the page has already answered. Not one thread per
    mail: the record exists first, so a worker that dies loses nothing.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        transport_factory: TransportFactory | None,
        clock: Clock,
        *,
        interval: float = 60.0,
    ) -> None:
        self.store = store
        self.settings = settings
        self.transport_factory = transport_factory
        self.clock = clock
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.worker = _worker_id()

    def wake(self) -> None:
        """Drain soon (starts the thread on first use)."""
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="rundbrief-system-mail", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                drain_system_mail(
                    self.store,
                    self.settings,
                    self.transport_factory,
                    self.clock,
                    worker=self.worker,
                )
            except Exception:  # the thread has nobody to raise to; the rows are kept
                log.exception("system mail drain failed; the messages stay queued")
