"""Which delivery a bounce or complaint is about, most certain evidence first.

1. a delivery id the provider handed back (webhook metadata / user variables);
2. the VERP token in the address the report was sent to (``[delivery] bounce_domain``);
3. our Message-ID of the returned original (unique per delivery);
4. the failed recipient's latest delivery.

An event that matches no delivery is recorded but suppresses nothing: a report about an
address we never mailed is backscatter or a forgery, not a reason to drop anybody.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.bounces import verp
from pipeline.bounces.dsn import BounceEvent
from pipeline.store import Store
from pipeline.store import bounces as q
from pipeline.store.bounces import DeliveryRef


@dataclass(frozen=True)
class Match:
    delivery: DeliveryRef | None
    how: str  # metadata | verp | message_id | recipient | none


def match_event(
    store: Store, event: BounceEvent, *, secret: str | None, bounce_domain: str
) -> Match:
    if event.delivery_id is not None:
        found = q.delivery_by_id(store, event.delivery_id)
        if found is not None:
            return Match(found, "metadata")
    if bounce_domain and secret:
        for address in event.report_addresses:
            delivery_id = verp.delivery_from_address(secret, address, bounce_domain)
            if delivery_id is not None:
                found = q.delivery_by_id(store, delivery_id)
                if found is not None:
                    return Match(found, "verp")
    if event.original_message_id:
        found = q.delivery_by_message_id(store, event.original_message_id)
        if found is not None:
            return Match(found, "message_id")
    if event.recipient:
        found = q.latest_delivery_to(store, event.recipient)
        if found is not None:
            return Match(found, "recipient")
    return Match(None, "none")
