"""The numbers of a mailing after sending, per recipient.

delivered     accepted by the transport (the outbox row is ``sent``)
failed        given up (the outbox row is ``failed``)
bounced_hard  / bounced_soft / complaints: recipients with such a report
unsubscribes  recipients who left the list this mailing reached them on after it
              arrived (own link), or unsubscribed through the provider for it
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.store import Store
from pipeline.store import audience as store_audience
from pipeline.store import numbers as store_numbers
from pipeline.store import outbox as store_outbox


@dataclass(frozen=True)
class MailingNumbers:
    total: int
    delivered: int
    failed: int
    bounced_hard: int
    bounced_soft: int
    complaints: int
    unsubscribes: int


def numbers(store: Store, mailing_id: int) -> MailingNumbers:
    counts = store_outbox.counts(store, mailing_id)
    reported = store_numbers.reported_recipients(store, mailing_id)
    with store.connect() as conn:
        left = store_audience.unsubscribed_after(conn, mailing_id)
    return MailingNumbers(
        total=sum(counts.values()),
        delivered=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        bounced_hard=reported.get("hard", 0),
        bounced_soft=reported.get("soft", 0),
        complaints=reported.get("complaint", 0),
        unsubscribes=left + reported.get("unsubscribe", 0),
    )
