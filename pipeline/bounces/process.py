"""Turn bounce events into suppressions: hard bounces and complaints at once, soft ones
after ``[bounces] soft_bounces_before_suppress``.

    process_message(bytes) ─ parse_report ─▶ events ─┐
    webhook payloads ─────────────────────────▶ events ─┴─ handle_event:
        seen before (source_id)? ─ yes ▶ duplicate, nothing else happens
        match ▶ suppress (hard, complaint, too many soft) ▶ record in bounce_events

The suppression comes before the record: a crash between the two repeats an idempotent
suppression on the next run instead of losing it behind an already recorded event.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.audience.addresses import email_hash, normalise_email
from pipeline.audience.suppression import suppress
from pipeline.bounces.dsn import BounceEvent, BounceKind, parse_report
from pipeline.bounces.match import match_event
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.errors import AudienceError
from pipeline.store import Store
from pipeline.store import bounces as q

log = logging.getLogger(__name__)


@dataclass
class ProcessReport:
    source: str = ""
    messages: int = 0  # reports read (mails or webhook calls)
    ignored: int = 0  # read but neither bounce nor complaint (auto-replies, delays)
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    suppressed: int = 0  # addresses newly suppressed
    duplicates: int = 0  # events processed before (same source id)
    unmatched: int = 0  # events about no delivery of ours: recorded, nobody suppressed
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "messages": self.messages,
            "ignored": self.ignored,
            "hard": self.hard,
            "soft": self.soft,
            "complaints": self.complaints,
            "suppressed": self.suppressed,
            "duplicates": self.duplicates,
            "unmatched": self.unmatched,
            "errors": list(self.errors),
        }


class BounceProcessor:
    """Holds what every event needs; one per run (CLI) or per request (webhook)."""

    def __init__(self, settings: Settings, store: Store, *, clock: Clock) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.bounce_domain = settings.delivery.bounce_domain
        # VERP tokens are signed with the web secret; without VERP it is not needed.
        self.secret = (
            settings.secret(settings.web.secret_env, key="web.secret_env")
            if self.bounce_domain
            else None
        )
        self.report = ProcessReport()

    def process_message(self, data: bytes) -> None:
        """One received mail: a DSN, an ARF report, a plain-text bounce, or nothing."""
        self.report.messages += 1
        try:
            events = parse_report(data)
        except Exception as exc:  # a malformed mail must not block the mailbox for ever
            log.warning("unreadable report skipped", extra={"error": repr(exc)})
            self.report.errors.append(f"unreadable report skipped: {exc!r}")
            self.report.ignored += 1
            return
        if not events:
            self.report.ignored += 1
            return
        for event in events:
            self.handle_event(event)

    def process_events(self, events: Iterable[BounceEvent]) -> None:
        """Events a webhook decoded (one webhook call counts as one message)."""
        self.report.messages += 1
        for event in events:
            self.handle_event(event)

    def handle_event(self, event: BounceEvent) -> None:
        report = self.report
        if q.event_seen(self.store, event.source_id):
            report.duplicates += 1
            return
        match = match_event(self.store, event, secret=self.secret, bounce_domain=self.bounce_domain)
        address = match.delivery.email if match.delivery else event.recipient
        if address is None:
            report.unmatched += 1
            log.info("bounce without an address", extra={"source_id": event.source_id})
            return
        try:
            address = normalise_email(address)
        except AudienceError:
            address = address.strip().lower()
        key = email_hash(address)
        detail = " ".join(x for x in (event.status or "", event.diagnostic) if x)[:500]
        if match.delivery is None:
            report.unmatched += 1
        elif event.kind == BounceKind.HARD:
            self._suppress(address, "hard_bounce", detail)
        elif event.kind == BounceKind.COMPLAINT:
            self._suppress(address, "complaint", detail)
        else:
            bounced = q.soft_bounced_deliveries(self.store, key) | {match.delivery.id}
            soft = len(bounced)
            if soft >= self.settings.bounces.soft_bounces_before_suppress:
                self._suppress(address, "hard_bounce", f"{soft} soft bounces, last: {detail}")
        recorded = q.record_event(
            self.store,
            q.NewBounceEvent(
                delivery_id=match.delivery.id if match.delivery else None,
                email_hash=key,
                kind=event.kind.value,
                status_code=event.status,
                detail=detail,
                source=event.source,
                source_id=event.source_id,
                received_at=self.clock.now(),
            ),
        )
        if not recorded:  # another process recorded it a moment ago
            report.duplicates += 1
            return
        if event.kind == BounceKind.HARD:
            report.hard += 1
        elif event.kind == BounceKind.SOFT:
            report.soft += 1
        else:
            report.complaints += 1
        log.info(
            "bounce recorded",
            extra={
                "kind": event.kind.value,
                "status": event.status or "-",
                "delivery": match.delivery.id if match.delivery else "-",
                "matched_by": match.how,
            },
        )

    def _suppress(self, address: str, reason: str, detail: str) -> None:
        try:
            added = suppress(self.store, address, reason, clock=self.clock, detail=detail)
        except AudienceError as exc:
            self.report.errors.append(f"{address}: {exc}")
            return
        if added:
            self.report.suppressed += 1
