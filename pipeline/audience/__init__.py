"""Audience: subscribers, lists, consent, unsubscribe tokens and suppressions.

Public API (contract shared with deliver/, web/, render/):

- ``iter_recipients(store, lists, batch_size=...)``: active, unsuppressed recipients of
  the lists, one per address, in keyset batches (memory stays flat).
- ``is_receiving(store, email, list_name)``: the same rule for one address right now
  (the outbox asks it just before sending, so an unsubscribe takes effect at once).
- ``tokens``: HMAC-signed unsubscribe/preferences/confirmation tokens per subscriber and
  list; ``links``: the URLs built from them.
- ``suppression``: ``is_suppressed`` / ``suppress`` / ``unsubscribe``.
- ``addresses``: the one address policy: ``accept_address`` for every new address
  (import, sign-up, web app), ``wire_address`` for the sender, ``normalise_email`` for
  the key of an address already stored; ``NonAsciiLocalPart`` (SMTPUTF8 is not used).
- ``csv_import.import_file``: CSV lists in; ``optin``: double opt-in with evidence;
  ``privacy``: export and erase.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pipeline.audience.addresses import (
    AddressError,
    NonAsciiLocalPart,
    accept_address,
    email_hash,
    normalise_email,
    wire_address,
)
from pipeline.audience.suppression import is_suppressed, suppress, unsubscribe
from pipeline.models import Recipient
from pipeline.store import Store
from pipeline.store import audience as q


def iter_recipients(
    store: Store, lists: Sequence[str], *, batch_size: int = 1000
) -> Iterator[Recipient]:
    """Active, unsuppressed recipients of ``lists``, one per address, in subscriber order.

    Each batch is read in its own short transaction (keyset on the subscriber id), so a
    long send never holds the database and an unsubscribe between two batches counts.
    ``Recipient.list_name`` is the first of ``lists`` the person is on.
    """
    names = list(dict.fromkeys(lists))
    if not names:
        return
    after = 0
    while True:
        with store.connect() as conn:
            batch = q.recipient_batch(conn, names, after, batch_size)
        if not batch:
            return
        yield from batch
        after = batch[-1].subscriber_id
        if len(batch) < batch_size:
            return


def is_receiving(store: Store, email: str, list_name: str) -> bool:
    """Whether ``email`` is active on ``list_name`` and not suppressed, right now."""
    try:
        key = normalise_email(email)
    except AddressError:
        return False
    with store.connect() as conn:
        return q.is_receiving(conn, key, email_hash(key), list_name)


__all__ = [
    "AddressError",
    "NonAsciiLocalPart",
    "accept_address",
    "email_hash",
    "is_receiving",
    "is_suppressed",
    "iter_recipients",
    "normalise_email",
    "suppress",
    "unsubscribe",
    "wire_address",
]
