"""Queries of the distribution record: one mailing's deliveries with the person each went
to and what came back (bounce and complaint events), a page at a time.

Read-only. Pages are keyset pages by delivery id (``after``), so reading the record of
100,000 recipients costs 100,000 rows once, never a growing offset. Attributes are read
as the stored JSON and picked in Python: the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from pipeline.store import Store
from pipeline.store.schema import bounce_events, deliveries, subscribers

# An erased person's deliveries keep their row with the address replaced by
# "erased:<delivery id>" (``audience.scrub_deliveries``): the row is still counted.
ERASED_PREFIX = "erased:"


@dataclass(frozen=True)
class ReportedEvent:
    """A bounce or complaint reported for a delivery."""

    kind: str  # hard | soft | complaint | unsubscribe
    status_code: str | None
    received_at: datetime


@dataclass(frozen=True)
class RecordRow:
    """One delivery and its person, as stored. ``email`` is None once the person was
    erased; ``first_name``/``last_name``/``attributes`` are empty without a subscriber."""

    delivery_id: int
    email: str | None
    first_name: str
    last_name: str
    attributes: dict[str, Any]
    list_name: str
    language: str
    status: str
    sent_at: datetime | None
    message_id: str | None
    provider_message_id: str | None
    last_error: str | None
    events: tuple[ReportedEvent, ...]


def record_page(
    store: Store, mailing_id: int, *, after: int | None = None, limit: int = 500
) -> list[RecordRow]:
    """The deliveries of ``mailing_id`` after delivery ``after``, oldest first."""
    query = (
        select(
            deliveries.c.id,
            deliveries.c.email,
            subscribers.c.first_name,
            subscribers.c.last_name,
            subscribers.c.attributes,
            deliveries.c.list_name,
            deliveries.c.language,
            deliveries.c.status,
            deliveries.c.sent_at,
            deliveries.c.message_id,
            deliveries.c.provider_message_id,
            deliveries.c.last_error,
        )
        .select_from(
            deliveries.outerjoin(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
        )
        .where(deliveries.c.mailing_id == mailing_id)
        .order_by(deliveries.c.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(deliveries.c.id > after)
    with store.connect() as conn:
        rows = conn.execute(query).all()
        events = _events(conn, [r[0] for r in rows])
    out = []
    # positional unpacking: a named lookup per column costs more than the query per row
    for did, email, first, last, attrs, list_name, language, status, sent, mid, pid, err in rows:
        out.append(
            RecordRow(
                delivery_id=did,
                email=None if email.startswith(ERASED_PREFIX) else email,
                first_name=first or "",
                last_name=last or "",
                attributes=attrs if isinstance(attrs, dict) else {},
                list_name=list_name,
                language=language,
                status=status,
                sent_at=sent,
                message_id=mid,
                provider_message_id=pid,
                last_error=err,
                events=tuple(events.get(did, ())),
            )
        )
    return out


def _events(conn: Connection, delivery_ids: Sequence[int]) -> dict[int, list[ReportedEvent]]:
    """The events of these deliveries, in the order they arrived (one query a page, on
    ``ix_bounce_events_delivery_id``)."""
    out: dict[int, list[ReportedEvent]] = {}
    if not delivery_ids:
        return out
    rows = conn.execute(
        select(
            bounce_events.c.delivery_id,
            bounce_events.c.kind,
            bounce_events.c.status_code,
            bounce_events.c.received_at,
        )
        .where(bounce_events.c.delivery_id.in_(delivery_ids))
        .order_by(bounce_events.c.id)
    )
    for delivery_id, kind, status_code, received_at in rows:
        out.setdefault(delivery_id, []).append(ReportedEvent(kind, status_code, received_at))
    return out
