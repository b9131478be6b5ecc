"""What came back for one mailing, counted per recipient (read-only)."""

from __future__ import annotations

from sqlalchemy import func, select

from pipeline.store import Store
from pipeline.store.schema import bounce_events, deliveries


def reported_recipients(store: Store, mailing_id: int) -> dict[str, int]:
    """Recipients of the mailing with a report of each kind (hard, soft, complaint,
    unsubscribe): a delivery reported five times (a provider's retries) counts once."""
    with store.connect() as conn:
        rows = conn.execute(
            select(bounce_events.c.kind, func.count(func.distinct(bounce_events.c.delivery_id)))
            .select_from(bounce_events.join(deliveries))
            .where(deliveries.c.mailing_id == mailing_id)
            .group_by(bounce_events.c.kind)
        ).all()
    return {str(kind): int(n) for kind, n in rows}
