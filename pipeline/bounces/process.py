"""Turn bounce events into suppressions: hard bounces, complaints and unsubscribes a
provider reports at once, soft ones after ``[bounces] soft_bounces_before_suppress``.

    process_message(bytes) ─ parse_report ─▶ events ─┐
    webhook payloads ─────────────────────────▶ events ─┴─ handle_event:
        seen before (source_id)? ─ yes ▶ duplicate, nothing else happens
        match (VERP, our Message-ID, webhook ids; see ``match``)
          ├ tied to a delivery ▶ suppress (hard, complaint, too many soft) ▶ record
          └ not ▶ record as unmatched with what it claimed; nobody is suppressed

The suppression comes before the record: a crash between the two repeats an idempotent
suppression on the next run instead of losing it behind an already recorded event.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from pipeline.audience import email_hash, suppress
from pipeline.bounces.dsn import BounceEvent, BounceKind, parse_report
from pipeline.bounces.match import address_key, match_event
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.errors import AudienceError
from pipeline.store import Store
from pipeline.store import bounces as q

log = logging.getLogger(__name__)


MAX_LISTED = 100  # unmatched reports named in one run's report (all are counted)


@dataclass(frozen=True)
class UnmatchedReport:
    """What a report tied to no delivery of ours claimed, and why that was not enough."""

    kind: str
    source: str
    recipient: str | None
    message_id: str | None
    why: str

    def describe(self) -> str:
        return (
            f"not acted on: {self.why} | recipient {self.recipient or '-'}"
            f" | Message-ID {self.message_id or '-'}"
        )


@dataclass
class ProcessReport:
    source: str = ""
    messages: int = 0  # reports read (mails or webhook calls)
    ignored: int = 0  # read but neither bounce nor complaint (auto-replies, delays)
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    unsubscribes: int = 0  # unsubscribed through the provider (its link or list)
    suppressed: int = 0  # addresses newly suppressed
    duplicates: int = 0  # events processed before (same source id)
    unmatched: int = 0  # events tied to no delivery of ours: recorded, nobody suppressed
    unmatched_reports: list[UnmatchedReport] = field(default_factory=list)  # the first ones
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "messages": self.messages,
            "ignored": self.ignored,
            "hard": self.hard,
            "soft": self.soft,
            "complaints": self.complaints,
            "unsubscribes": self.unsubscribes,
            "suppressed": self.suppressed,
            "duplicates": self.duplicates,
            "unmatched": self.unmatched,
            "unmatched_reports": [asdict(r) for r in self.unmatched_reports],
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
        detail = " ".join(x for x in (event.status or "", event.diagnostic) if x)[:500]
        if match.delivery is None:
            self._unmatched(event, match.why, detail)
            return
        address = address_key(match.delivery.email)
        key = email_hash(address)
        if event.kind == BounceKind.HARD:
            self._suppress(address, "hard_bounce", detail)
        elif event.kind == BounceKind.COMPLAINT:
            self._suppress(address, "complaint", detail)
        elif event.kind == BounceKind.UNSUBSCRIBE:
            self._suppress(address, "unsubscribed", detail)
        else:
            bounced = q.soft_bounced_deliveries(self.store, key) | {match.delivery.id}
            soft = len(bounced)
            if soft >= self.settings.bounces.soft_bounces_before_suppress:
                self._suppress(address, "hard_bounce", f"{soft} soft bounces, last: {detail}")
        if not self._record(event, match.delivery.id, key, detail):
            return
        if event.kind == BounceKind.HARD:
            report.hard += 1
        elif event.kind == BounceKind.SOFT:
            report.soft += 1
        elif event.kind == BounceKind.UNSUBSCRIBE:
            report.unsubscribes += 1
        else:
            report.complaints += 1
        log.info(
            "bounce recorded",
            extra={
                "kind": event.kind.value,
                "status": event.status or "-",
                "delivery": match.delivery.id,
                "matched_by": match.how,
            },
        )

    def _unmatched(self, event: BounceEvent, why: str, detail: str) -> None:
        """Record what the report claimed, under the hash of the address it named (so an
        erasure of that person clears the text too), and act on nobody."""
        named = event.recipient or event.original_recipient
        key = email_hash(address_key(named) if named else "")
        claim = UnmatchedReport(
            kind=event.kind.value,
            source=event.source,
            recipient=named,
            message_id=event.original_message_id,
            why=why,
        )
        if not self._record(event, None, key, f"{claim.describe()} | {detail}"):
            return
        self.report.unmatched += 1
        if len(self.report.unmatched_reports) < MAX_LISTED:
            self.report.unmatched_reports.append(claim)
        log.warning(
            "bounce not acted on: tied to no delivery of ours",
            extra={"kind": event.kind.value, "source_id": event.source_id, "why": why},
        )

    def _record(self, event: BounceEvent, delivery_id: int | None, key: str, detail: str) -> bool:
        recorded = q.record_event(
            self.store,
            q.NewBounceEvent(
                delivery_id=delivery_id,
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
            self.report.duplicates += 1
        return recorded

    def _suppress(self, address: str, reason: str, detail: str) -> None:
        try:
            added = suppress(self.store, address, reason, clock=self.clock, detail=detail)
        except AudienceError as exc:
            self.report.errors.append(f"{address}: {exc}")
            return
        if added:
            self.report.suppressed += 1
