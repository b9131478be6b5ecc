"""Suppressions and unsubscribes: addresses that must not be mailed (again).

A suppression is kept by the sha256 of the normalised address, so it still matches after
the person's data is erased. Reasons: ``unsubscribed``, ``hard_bounce``, ``complaint``,
``manual``, ``erased``. Recipients are filtered against it whenever they are chosen
(``iter_recipients``), and suppressing cancels queued deliveries at once.

Unsubscribing from one list ends that subscription; the address is suppressed as a whole
when no list is left (or when the person leaves every list). A later CSV import never
brings either back; only the person's own confirmed opt-in does (``lift_for_optin``),
and only for ``unsubscribed`` and ``erased``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.audience.addresses import email_hash, normalise_email
from pipeline.clock import Clock
from pipeline.errors import AudienceError
from pipeline.models import SuppressionReason
from pipeline.store import Store, Unit
from pipeline.store import audience as q

log = logging.getLogger(__name__)

REASONS = tuple(r.value for r in SuppressionReason)
# A confirmed opt-in is new consent and ends these; an operator's decision, a complaint
# and a dead mailbox stand (no confirmation mail is even sent to those).
_LIFTED_BY_OPTIN = frozenset({SuppressionReason.UNSUBSCRIBED.value, SuppressionReason.ERASED.value})


@dataclass(frozen=True)
class UnsubscribeOutcome:
    email: str
    lists: tuple[str, ...]  # subscriptions ended now
    suppressed: bool  # the address as a whole is now suppressed
    cancelled_deliveries: int


def _reason(reason: str) -> str:
    if reason not in REASONS:
        raise AudienceError(f"unknown suppression reason {reason!r} (one of {', '.join(REASONS)})")
    return reason


def is_suppressed(store: Store, email: str) -> bool:
    """Whether the address (in any spelling that normalises the same) is suppressed."""
    try:
        key = normalise_email(email)
    except AudienceError:
        key = email.strip().lower()
    with store.connect() as conn:
        return q.is_hash_suppressed(conn, email_hash(key))


def suppress(
    store: Store, email: str, reason: str, *, clock: Clock, detail: str | None = None
) -> bool:
    """Suppress an address; True when it was not suppressed before.

    Queued deliveries to it are cancelled in the same transaction.
    """
    key = normalise_email(email)
    with store.begin() as conn:
        return suppress_in(conn, key, _reason(reason), clock=clock, detail=detail)


def suppress_in(
    conn: Unit, email: str, reason: str, *, clock: Clock, detail: str | None = None
) -> bool:
    """``suppress`` inside the caller's transaction (``email`` already normalised)."""
    added = q.add_suppression(
        conn,
        email_hash=email_hash(email),
        email=email,
        reason=reason,
        detail=detail,
        at=clock.now(),
    )
    q.cancel_pending_deliveries(conn, email, None)
    if added:
        log.info("address suppressed", extra={"reason": reason})
    return added


def unsubscribe(
    store: Store, email: str, list_names: Sequence[str] | None = None, *, clock: Clock
) -> UnsubscribeOutcome:
    """End the subscriptions of ``email`` (all when ``list_names`` is None)."""
    key = normalise_email(email)
    with store.begin() as conn:
        person = q.find_subscriber(conn, key)
        if person is None:
            if list_names is None:
                added = suppress_in(conn, key, "unsubscribed", clock=clock, detail="no subscriber")
                return UnsubscribeOutcome(key, (), added, 0)
            raise AudienceError(f"{key} is not a subscriber")
        return unsubscribe_in(conn, person.id, key, list_names, clock=clock)


def unsubscribe_in(
    conn: Unit,
    subscriber_id: int,
    email: str,
    list_names: Sequence[str] | None,
    *,
    clock: Clock,
    detail: str | None = None,
) -> UnsubscribeOutcome:
    now = clock.now()
    ended = q.set_unsubscribed(conn, subscriber_id, list_names, now)
    cancelled = q.cancel_pending_deliveries(conn, email, list_names)
    suppressed = False
    if list_names is None or not q.has_live_subscription(conn, subscriber_id):
        suppressed = suppress_in(
            conn, email, "unsubscribed", clock=clock, detail=detail or ", ".join(ended) or None
        )
    log.info(
        "unsubscribed",
        extra={"subscriber": subscriber_id, "lists": ",".join(ended) or "-"},
    )
    return UnsubscribeOutcome(email, tuple(ended), suppressed, cancelled)


def may_optin(reason: str) -> bool:
    """Whether an address suppressed for ``reason`` may opt in again by itself."""
    return reason in _LIFTED_BY_OPTIN


def lift_for_optin(conn: Unit, email: str) -> bool:
    """A confirmed opt-in by the person is new consent: lift an ``unsubscribed`` or
    ``erased`` suppression. Returns whether the address may now be mailed."""
    found = q.get_suppression(conn, email_hash(email))
    if found is None:
        return True
    if not may_optin(found.reason):
        return False
    q.remove_suppression(conn, email_hash(email))
    log.info("suppression lifted by confirmed opt-in", extra={"reason": found.reason})
    return True
