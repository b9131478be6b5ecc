"""Queries of bounce processing: find the delivery a report is about, record the event.

Read-only on ``deliveries`` (the outbox owns it); ``bounce_events`` is written here, with
``source_id`` unique so that a report processed twice is recorded once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select
from sqlalchemy.exc import IntegrityError

from pipeline.store import Store
from pipeline.store.schema import bounce_events, deliveries


@dataclass(frozen=True)
class DeliveryRef:
    """The delivery a bounce belongs to: enough to suppress and to report."""

    id: int
    mailing_id: int
    email: str
    list_name: str
    message_id: str | None
    provider_message_id: str | None = None


@dataclass(frozen=True)
class NewBounceEvent:
    delivery_id: int | None
    email_hash: str
    kind: str
    status_code: str | None
    detail: str
    source: str
    source_id: str
    received_at: datetime


_COLUMNS = (
    deliveries.c.id,
    deliveries.c.mailing_id,
    deliveries.c.email,
    deliveries.c.list_name,
    deliveries.c.message_id,
    deliveries.c.provider_message_id,
)


def _ref(row: Row[Any, Any, Any, Any, Any, Any]) -> DeliveryRef:
    return DeliveryRef(
        id=int(row[0]),
        mailing_id=int(row[1]),
        email=str(row[2]),
        list_name=str(row[3]),
        message_id=row[4],
        provider_message_id=row[5],
    )


def delivery_by_id(store: Store, delivery_id: int) -> DeliveryRef | None:
    with store.connect() as conn:
        row = conn.execute(select(*_COLUMNS).where(deliveries.c.id == delivery_id)).first()
    return _ref(row) if row is not None else None


def delivery_by_message_id(store: Store, message_id: str) -> DeliveryRef | None:
    """By our Message-ID, with or without the angle brackets around it (an ``IN`` on
    ``ix_deliveries_message_id``: a report never costs a scan of the outbox)."""
    bare = message_id.strip().strip("<>")
    if not bare:
        return None
    forms = [f"<{bare}>", bare]
    with store.connect() as conn:
        row = conn.execute(
            select(*_COLUMNS).where(deliveries.c.message_id.in_(forms)).limit(1)
        ).first()
    return _ref(row) if row is not None else None


def event_seen(store: Store, source_id: str) -> bool:
    with store.connect() as conn:
        found = conn.execute(
            select(bounce_events.c.id).where(bounce_events.c.source_id == source_id)
        ).first()
    return found is not None


def soft_bounced_deliveries(store: Store, email_hash: str) -> set[int]:
    """The deliveries to an address that bounced softly: a provider reports every retry
    of one message, and five retries of one newsletter are not five dead mailings."""
    with store.connect() as conn:
        rows = conn.execute(
            select(bounce_events.c.delivery_id)
            .where(
                bounce_events.c.email_hash == email_hash,
                bounce_events.c.kind == "soft",
                bounce_events.c.delivery_id.is_not(None),
            )
            .distinct()
        ).all()
    return {int(r[0]) for r in rows}


def record_event(store: Store, event: NewBounceEvent) -> bool:
    """Insert the event; False when its ``source_id`` was recorded already (a replay)."""
    try:
        with store.begin() as conn:
            _insert(conn, event)
    except IntegrityError:
        return False
    return True


def _insert(conn: Connection, event: NewBounceEvent) -> None:
    conn.execute(
        insert(bounce_events).values(
            delivery_id=event.delivery_id,
            email_hash=event.email_hash,
            kind=event.kind,
            status_code=event.status_code,
            detail=event.detail[:2000],
            source=event.source[:64],
            source_id=event.source_id[:500],
            received_at=event.received_at,
        )
    )


def events_for_mailing(store: Store, mailing_id: int) -> dict[str, int]:
    """Bounce and complaint counts of one mailing by kind (for ``mailing show``)."""
    with store.connect() as conn:
        rows = conn.execute(
            select(bounce_events.c.kind, func.count())
            .select_from(bounce_events.join(deliveries))
            .where(deliveries.c.mailing_id == mailing_id)
            .group_by(bounce_events.c.kind)
        ).all()
    return {str(kind): int(n) for kind, n in rows}


@dataclass(frozen=True)
class UnmatchedEvent:
    """A recorded report tied to no delivery of ours; ``detail`` says what it claimed."""

    id: int
    kind: str
    status_code: str | None
    detail: str | None  # None once the named person was erased
    source: str
    received_at: datetime


def unmatched_events(store: Store, *, limit: int) -> list[UnmatchedEvent]:
    """The newest events without a delivery, for an operator to look at.

    Mailings (and so deliveries) are never deleted, so ``delivery_id IS NULL`` is exactly
    the events that matched none.
    """
    with store.connect() as conn:
        rows = conn.execute(
            select(
                bounce_events.c.id,
                bounce_events.c.kind,
                bounce_events.c.status_code,
                bounce_events.c.detail,
                bounce_events.c.source,
                bounce_events.c.received_at,
            )
            .where(bounce_events.c.delivery_id.is_(None))
            .order_by(bounce_events.c.id.desc())
            .limit(limit)
        ).all()
    return [UnmatchedEvent(int(r[0]), str(r[1]), r[2], r[3], str(r[4]), r[5]) for r in rows]
