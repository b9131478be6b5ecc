"""Queries of follow-ups: who an original press release was delivered to, its follow-ups,
the embargo a lift moves, and which follow-ups reached each original delivery.

Persistence only; the rules (which follow-up is allowed when, what a lift or a
withdrawal does) live in the workflow layer (``pipeline.mailings.followups``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from pipeline.models import DeliveryStatus, Mailing
from pipeline.store import Store
from pipeline.store.mailings import find_mailing
from pipeline.store.record import ERASED_PREFIX
from pipeline.store.schema import (
    deliveries,
    mailings,
    subscribers,
    subscriptions,
    suppressions,
)

SENT = str(DeliveryStatus.SENT)


@dataclass(frozen=True)
class DeliveredCopy:
    """One copy of the original that went out: the follow-up's delivery is made from it."""

    delivery_id: int
    subscriber_id: int | None
    email: str
    list_name: str
    language: str
    message_id: str | None


def delivered_count(store: Store, mailing_id: int) -> int:
    """How many copies of a mailing were delivered (status sent)."""
    with store.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    deliveries.c.mailing_id == mailing_id, deliveries.c.status == SENT
                )
            ).scalar_one()
        )


def delivered_page(
    store: Store, mailing_id: int, *, after: int = 0, limit: int = 1000
) -> list[DeliveredCopy]:
    """The delivered copies of a mailing after delivery ``after``, by id (keyset pages);
    an erased person's copy is left out (nothing may reach them again)."""
    with store.connect() as conn:
        rows = conn.execute(
            select(
                deliveries.c.id,
                deliveries.c.subscriber_id,
                deliveries.c.email,
                deliveries.c.list_name,
                deliveries.c.language,
                deliveries.c.message_id,
            )
            .where(
                deliveries.c.mailing_id == mailing_id,
                deliveries.c.status == SENT,
                deliveries.c.id > after,
                deliveries.c.email.not_like(f"{ERASED_PREFIX}%"),
            )
            .order_by(deliveries.c.id)
            .limit(limit)
        ).all()
    return [
        DeliveredCopy(r.id, r.subscriber_id, r.email, r.list_name, r.language, r.message_id)
        for r in rows
    ]


def follow_ups_of(store: Store, mailing_id: int) -> list[Mailing]:
    """The follow-ups of a mailing, oldest first (whatever their status)."""
    with store.connect() as conn:
        ids = [
            r.id
            for r in conn.execute(
                select(mailings.c.id)
                .where(mailings.c.follows_id == mailing_id)
                .order_by(mailings.c.id)
            )
        ]
    return [m for m in (find_mailing(store, i) for i in ids) if m is not None]


def move_embargo(store: Store, mailing_id: int, *, to: datetime, now: datetime) -> bool:
    """Bring a mailing's embargo forward to ``to`` (a lift); False when it had none
    later than that (one conditional UPDATE: lifting twice moves it once)."""
    with store.begin() as conn:
        return bool(
            conn.execute(
                update(mailings)
                .where(
                    mailings.c.id == mailing_id,
                    mailings.c.embargo_at.is_not(None),
                    mailings.c.embargo_at > to,
                )
                .values(embargo_at=to, updated_at=now)
            ).rowcount
        )


def follow_ups_delivered(store: Store, message_ids: Sequence[str]) -> dict[str, list[int]]:
    """Original Message-ID -> the follow-up mailings delivered in reply to it, in order."""
    out: dict[str, list[int]] = {}
    wanted = [m for m in message_ids if m]
    if not wanted:
        return out
    with store.connect() as conn:
        rows = conn.execute(
            select(deliveries.c.in_reply_to, deliveries.c.mailing_id)
            .where(deliveries.c.in_reply_to.in_(wanted), deliveries.c.status == SENT)
            .order_by(deliveries.c.mailing_id)
        )
        for reply_to, mailing_id in rows:
            out.setdefault(reply_to, []).append(mailing_id)
    return out


def reachable_count(store: Store, original_id: int, lists: Sequence[str]) -> int:
    """How many delivered copies of the original a follow-up would reach now: the person
    is still actively on one of ``lists`` and not suppressed (the claim's rule)."""
    active = (
        select(subscriptions.c.subscriber_id)
        .where(
            subscriptions.c.subscriber_id == deliveries.c.subscriber_id,
            subscriptions.c.list_name.in_(list(lists)),
            subscriptions.c.status == "active",
        )
        .exists()
    )
    suppressed = (
        select(suppressions.c.email_hash)
        .where(suppressions.c.email_hash == subscribers.c.email_hash)
        .exists()
    )
    query = (
        select(func.count())
        .select_from(deliveries.join(subscribers, subscribers.c.id == deliveries.c.subscriber_id))
        .where(
            deliveries.c.mailing_id == original_id,
            deliveries.c.status == SENT,
            deliveries.c.email.not_like(f"{ERASED_PREFIX}%"),
            active,
            ~suppressed,
        )
    )
    with store.connect() as conn:
        return int(conn.execute(query).scalar_one())
