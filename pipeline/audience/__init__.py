"""Audience: subscribers, lists, consent, unsubscribe tokens and suppressions.

Public API (everything other packages use; the modules behind it are internal):

- recipients: ``iter_recipients(store, lists, batch_size=..., segment=...)`` (active,
  unsuppressed, in the segment if one is given, one per address, in keyset batches),
  ``count_recipients(store, lists, segment=...)`` (how many that is now) and ``is_receiving(store, email, list_name)`` (the
  same rule for one address right now, asked just before sending).
- addresses (``addresses``): ``accept_address`` for every new address (import, sign-up,
  web app), ``wire_address`` for the sender, ``normalise_email`` / ``email_hash`` for
  the key of an address already stored; ``AddressError``, ``NonAsciiLocalPart``.
- suppressions (``suppression``): ``is_suppressed``, ``suppress``, ``unsubscribe``,
  ``unsubscribe_in`` (inside the caller's unit of work).
- links (``links``, ``tokens``): ``signing_secret``, ``unsubscribe_url``,
  ``preferences_url``, ``confirm_url``, ``read_link`` -> ``Token`` or ``TokenError``;
  ``test_links`` and ``read_test_link`` (a test copy's links, which change nothing);
  press kits (``kit_links``): ``kit_token``, ``read_kit_token``.
- double opt-in (``optin``): ``public_lists``, ``record_signup(Signup)`` ->
  ``SignupOutcome`` (``RateLimited``), ``ConfirmationTask``, ``note_confirmation_sent``,
  ``pending_for``, ``confirm``, ``resend_task`` (an admin sends a confirmation again);
  preferences: ``load_preferences``, ``save_preferences``.
- lists in and people out: ``import_file`` -> ``ImportReport`` (``csv_import``);
  ``export_person``, ``erase_person`` (``privacy``); ``subscriber_id(store, email)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pipeline.audience.addresses import (
    AddressError,
    NonAsciiLocalPart,
    accept_address,
    email_hash,
    normalise_email,
    wire_address,
)
from pipeline.audience.csv_import import ImportReport, import_file
from pipeline.audience.kit_links import kit_token, read_kit_token
from pipeline.audience.links import (
    confirm_url,
    preferences_url,
    read_link,
    read_test_link,
    signing_secret,
    test_links,
    unsubscribe_url,
)
from pipeline.audience.optin import (
    ConfirmationTask,
    RateLimited,
    Signup,
    SignupOutcome,
    confirm,
    note_confirmation_sent,
    pending_for,
    public_lists,
    record_signup,
    resend_task,
)
from pipeline.audience.preferences import load_preferences, save_preferences
from pipeline.audience.privacy import (
    EraseReport,
    PersonHistory,
    erase_person,
    export_person,
    person_history,
)
from pipeline.audience.suppression import (
    UnsubscribeOutcome,
    is_suppressed,
    suppress,
    unsubscribe,
    unsubscribe_in,
)
from pipeline.audience.tokens import Token, TokenError
from pipeline.models import Recipient
from pipeline.segments import Condition
from pipeline.store import Store
from pipeline.store import audience as q
from pipeline.store.audience import Subscriber, Subscription


@dataclass(frozen=True)
class SubscriberRecord:
    subscriber: Subscriber
    subscriptions: tuple[Subscription, ...]


def iter_recipients(
    store: Store,
    lists: Sequence[str],
    *,
    batch_size: int = 1000,
    segment: Condition | None = None,
) -> Iterator[Recipient]:
    """Active, unsuppressed recipients of ``lists``, one per address, in subscriber order;
    with ``segment`` (``pipeline.segments.parse``) only those it holds for.

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
            batch = q.recipient_batch(conn, names, after, batch_size, segment)
        if not batch:
            return
        yield from batch
        after = batch[-1].subscriber_id
        if len(batch) < batch_size:
            return


def count_recipients(
    store: Store, lists: Sequence[str], *, segment: Condition | None = None
) -> int:
    """How many people ``iter_recipients`` would yield now (one query, no rows read)."""
    names = list(dict.fromkeys(lists))
    with store.connect() as conn:
        return q.count_recipients(conn, names, segment)


def subscriber_id(store: Store, email: str) -> int | None:
    """The id of the subscriber with this address (None: none, or not an address)."""
    try:
        key = normalise_email(email)
    except AddressError:
        return None
    with store.connect() as conn:
        person = q.find_subscriber(conn, key)
    return person.id if person is not None else None


def subscriber_record(store: Store, subscriber_id: int) -> SubscriberRecord | None:
    """A subscriber and their subscriptions by id (None: no such subscriber, or erased)."""
    with store.connect() as conn:
        person = q.get_subscriber(conn, subscriber_id)
        if person is None:
            return None
        return SubscriberRecord(person, tuple(q.subscriptions_of(conn, subscriber_id)))


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
    "ConfirmationTask",
    "EraseReport",
    "ImportReport",
    "NonAsciiLocalPart",
    "PersonHistory",
    "RateLimited",
    "Signup",
    "SignupOutcome",
    "SubscriberRecord",
    "Token",
    "TokenError",
    "UnsubscribeOutcome",
    "accept_address",
    "confirm",
    "confirm_url",
    "count_recipients",
    "email_hash",
    "erase_person",
    "export_person",
    "import_file",
    "is_receiving",
    "is_suppressed",
    "iter_recipients",
    "kit_token",
    "load_preferences",
    "normalise_email",
    "note_confirmation_sent",
    "pending_for",
    "person_history",
    "preferences_url",
    "public_lists",
    "read_kit_token",
    "read_link",
    "read_test_link",
    "record_signup",
    "resend_task",
    "save_preferences",
    "signing_secret",
    "subscriber_id",
    "subscriber_record",
    "suppress",
    "test_links",
    "unsubscribe",
    "unsubscribe_in",
    "unsubscribe_url",
    "wire_address",
]
