"""Which delivery of ours a bounce or complaint is about, or why none.

Anybody can mail the return path a report naming anybody, so a report acts only when it
is tied to a delivery we made, by evidence a stranger does not have:

1. ``webhook``: an authenticated provider webhook with the delivery id our transport sent
   along (Postmark ``Metadata``, Mailgun user variables), confirmed by the provider's
   message id or our Message-ID of that very delivery;
2. ``verp``: the address the report was sent to carries a VERP token we signed (``verp``);
3. ``message_id``: our Message-ID of the returned original (a DSN's ``message/rfc822`` or
   ``text/rfc822-headers`` part, an ARF report's original, a ``Message-ID:`` line quoted
   in a plain-text bounce), looked up by index; it carries an HMAC, so nobody but the
   recipient (and whom they forward it to) knows it.

In every case the recipient the report names, if it names one, must be the address of
that delivery: a report naming Jörg that quotes Ben's Message-ID is about neither.

There is no fallback to "the failed recipient's latest delivery": that is exactly what a
forger would name. An unmatched event is recorded with ``Match.why`` and acts on nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.audience import normalise_email
from pipeline.bounces import verp
from pipeline.bounces.dsn import BounceEvent
from pipeline.errors import AudienceError
from pipeline.store import Store
from pipeline.store import bounces as q
from pipeline.store.bounces import DeliveryRef


@dataclass(frozen=True)
class Match:
    delivery: DeliveryRef | None
    how: str  # webhook | verp | message_id | none
    # when unmatched: why the report's claims were not enough (for the operator; it
    # never names a delivery's address, only the addresses the report itself gave)
    why: str = ""


def match_event(
    store: Store, event: BounceEvent, *, secret: str | None, bounce_domain: str
) -> Match:
    doubts: list[str] = []
    found, how = _tied(store, event, secret, bounce_domain, doubts)
    if found is None:
        return Match(None, "none", "; ".join(doubts))
    claimed = claimed_recipients(event)
    if claimed and address_key(found.email) not in claimed:
        return Match(
            None,
            "none",
            f"names {', '.join(sorted(claimed))}, but the delivery it is tied to "
            f"({how}: delivery {found.id}) went to another address",
        )
    return Match(found, how)


def _tied(
    store: Store, event: BounceEvent, secret: str | None, bounce_domain: str, doubts: list[str]
) -> tuple[DeliveryRef | None, str]:
    if event.delivery_id is not None:  # only webhook decoders set it
        found = q.delivery_by_id(store, event.delivery_id)
        if found is not None and _confirmed(found, event):
            return found, "webhook"
        doubts.append(f"delivery id {event.delivery_id} not confirmed by its message id")
    if bounce_domain:
        tokens = [(a, t) for a in event.report_addresses if (t := verp.token_of(a, bounce_domain))]
        for address, token in tokens:
            delivery_id = verp.decode(secret, token) if secret else None
            if delivery_id is None:
                doubts.append(f"VERP address {address} not signed by us")
                continue
            found = q.delivery_by_id(store, delivery_id)
            if found is not None:
                return found, "verp"
            doubts.append(f"VERP address {address} names no delivery")
        if not tokens and event.delivery_id is None:
            doubts.append("no VERP token")
    message_id = event.original_message_id
    if message_id:
        found = q.delivery_by_message_id(store, message_id)
        if found is not None:
            return found, "message_id"
        doubts.append(f"Message-ID {message_id} is not ours")
    else:
        doubts.append("no Message-ID of the original")
    return None, "none"


def _confirmed(delivery: DeliveryRef, event: BounceEvent) -> bool:
    """The provider's ids in the event are those of the delivery its metadata names."""
    ours = {_bare(delivery.message_id), _bare(delivery.provider_message_id)} - {""}
    given = {_bare(event.provider_message_id), _bare(event.original_message_id)} - {""}
    return bool(ours & given)


def claimed_recipients(event: BounceEvent) -> frozenset[str]:
    """The addresses the report says failed (Final- and Original-Recipient), normalised."""
    return frozenset(address_key(a) for a in (event.recipient, event.original_recipient) if a)


def address_key(address: str) -> str:
    try:
        return normalise_email(address)
    except AudienceError:
        return address.strip().lower()


def _bare(message_id: str | None) -> str:
    return (message_id or "").strip().strip("<>").strip()
