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
)


def _ref(row: Row[Any, Any, Any, Any, Any]) -> DeliveryRef:
    return DeliveryRef(
        id=int(row[0]),
        mailing_id=int(row[1]),
        email=str(row[2]),
        list_name=str(row[3]),
        message_id=row[4],
    )


def delivery_by_id(store: Store, delivery_id: int) -> DeliveryRef | None:
    with store.connect() as conn:
        row = conn.execute(select(*_COLUMNS).where(deliveries.c.id == delivery_id)).first()
    return _ref(row) if row is not None else None


def delivery_by_message_id(store: Store, message_id: str) -> DeliveryRef | None:
    """By our Message-ID, with or without the angle brackets around it."""
    bare = message_id.strip().strip("<>")
    if not bare:
        return None
    forms = [f"<{bare}>", bare]
    with store.connect() as conn:
        row = conn.execute(
            select(*_COLUMNS).where(deliveries.c.message_id.in_(forms)).limit(1)
        ).first()
    return _ref(row) if row is not None else None


def latest_delivery_to(store: Store, email: str) -> DeliveryRef | None:
    """The most recent delivery that went to an address (sent or being sent)."""
    with store.connect() as conn:
        row = conn.execute(
            select(*_COLUMNS)
            .where(deliveries.c.email == email, deliveries.c.status.in_(("sent", "sending")))
            .order_by(deliveries.c.id.desc())
            .limit(1)
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
