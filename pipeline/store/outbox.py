"""Outbox queries: delivery rows, claims, results, the sending states of a mailing.

Every state change that two processes could race on is one conditional UPDATE (``WHERE
status = ...``) or a claim under a row lock (SQLite: the write lock taken at ``BEGIN
IMMEDIATE``; PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so several workers take disjoint
batches without waiting for each other).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Integer,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from pipeline.models import MailingKind, MailingStatus, Recipient, steps_from
from pipeline.store import Store
from pipeline.store.schema import (
    deliveries,
    mailing_senders,
    mailings,
    rate_limits,
    subscribers,
    subscriptions,
    suppressions,
)

PENDING = ("queued", "sending", "retry")
S = MailingStatus
# Each status change below names its step against the lifecycle's one table.
_START = steps_from(S.SENDING, S.APPROVED, S.SCHEDULED)
_RESUME = steps_from(S.SENDING, S.PAUSED)
_PAUSE = steps_from(S.PAUSED, S.SENDING)
_FINISH = steps_from(S.SENT, S.SENDING)


@dataclass(frozen=True)
class SendingState:
    """What the sender needs to know about a mailing (not the whole mailing)."""

    id: int
    kind: MailingKind
    status: MailingStatus
    lists: tuple[str, ...]
    languages: tuple[str, ...]
    send_at: datetime | None
    sent_at: datetime | None
    queued_at: datetime | None
    paused_reason: str | None
    resume_at: datetime | None = None
    resume_tries: int = 0
    paused_at: datetime | None = None
    segment_where: str | None = None  # the condition that narrows ``lists``
    # a follow-up: the press release whose delivered copies are its recipients
    follows_id: int | None = None


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker now holds, with what building its message needs."""

    id: int
    recipient: Recipient
    attempts: int  # including the one about to happen
    created_at: datetime
    # the previous attempt went unanswered at this time: confirm before sending again
    unknown_at: datetime | None = None
    # a follow-up's delivery: the Message-ID of the original copy it answers
    in_reply_to: str | None = None


@dataclass(frozen=True)
class Outcome:
    id: int
    status: str  # sent | retry | failed | queued (put back: the attempt does not count)
    error: str | None = None
    next_attempt_at: datetime | None = None
    message_id: str | None = None
    provider_message_id: str | None = None
    unknown: bool = False  # this attempt went unanswered
    possible_duplicate: bool = False  # sent again though an earlier attempt may have arrived


@dataclass(frozen=True)
class RateState:
    tokens: float
    updated_at: datetime
    blocked_until: datetime | None
    hour_start: datetime | None
    hour_count: int


# --- mailing states --------------------------------------------------------------------


def mailing_state(store: Store, mailing_id: int) -> SendingState | None:
    with store.connect() as conn:
        row = conn.execute(select(mailings).where(mailings.c.id == mailing_id)).first()
    if row is None:
        return None
    return SendingState(
        id=row.id,
        kind=MailingKind(row.kind),
        status=MailingStatus(row.status),
        lists=tuple(row.lists or ()),
        languages=tuple(row.languages or ()),
        send_at=row.send_at,
        sent_at=row.sent_at,
        queued_at=row.queued_at,
        paused_reason=row.paused_reason,
        resume_at=row.resume_at,
        resume_tries=row.resume_tries or 0,
        paused_at=row.paused_at,
        segment_where=row.segment_where,
        follows_id=row.follows_id,
    )


def start_sending(
    store: Store, mailing_id: int, *, now: datetime, resume_paused: bool = True
) -> bool:
    """approved/scheduled → sending (or paused → sending); True if this call moved it.

    One conditional UPDATE: of two processes starting the same mailing, one wins. The
    embargo is part of the same condition: an editor moving it later a moment before
    still wins, whatever the caller read before.
    """
    not_embargoed = or_(
        mailings.c.kind != "press", mailings.c.send_at.is_(None), mailings.c.send_at <= now
    )
    with store.begin() as conn:
        started = conn.execute(
            update(mailings)
            .where(
                mailings.c.id == mailing_id,
                mailings.c.status.in_(_START),
                not_embargoed,
            )
            .values(
                status=str(S.SENDING),
                sending_started_at=func.coalesce(mailings.c.sending_started_at, now),
                updated_at=now,
            )
        ).rowcount
        if started or not resume_paused:
            return bool(started)
        resumed = conn.execute(
            update(mailings)
            .where(mailings.c.id == mailing_id, mailings.c.status.in_(_RESUME))
            .values(status=str(S.SENDING), paused_reason=None, resume_at=None, updated_at=now)
        ).rowcount
        return bool(resumed)


# --- senders (the rows behind ``deliver.lease``) -------------------------------------


def join_sending(store: Store, mailing_id: int, worker: str, *, now: datetime) -> None:
    """Register (or renew) this sender's lease on a mailing."""
    with store.begin() as conn:
        if not _renew(conn, mailing_id, worker, now):
            conn.execute(
                insert(mailing_senders).values(
                    mailing_id=mailing_id, worker=worker, joined_at=now, heartbeat_at=now
                )
            )


def renew_sending(store: Store, mailing_id: int, worker: str, *, now: datetime) -> bool:
    """Renew this sender's own lease; False when its row is gone (others found it stale)."""
    with store.begin() as conn:
        return _renew(conn, mailing_id, worker, now)


def _renew(conn: Connection, mailing_id: int, worker: str, now: datetime) -> bool:
    return bool(
        conn.execute(
            update(mailing_senders)
            .where(mailing_senders.c.mailing_id == mailing_id, mailing_senders.c.worker == worker)
            .values(heartbeat_at=now)
        ).rowcount
    )


def leave_sending(store: Store, mailing_id: int, worker: str) -> None:
    with store.begin() as conn:
        conn.execute(
            delete(mailing_senders).where(
                mailing_senders.c.mailing_id == mailing_id, mailing_senders.c.worker == worker
            )
        )


def drop_senders(
    store: Store,
    mailing_id: int,
    workers: Sequence[str],
    *,
    heartbeat_before: datetime | None = None,
) -> None:
    """Forget senders found gone; with ``heartbeat_before``, not one that renewed its
    lease since it was looked at (a frozen process that woke up keeps its row)."""
    if not workers:
        return
    query = delete(mailing_senders).where(
        mailing_senders.c.mailing_id == mailing_id, mailing_senders.c.worker.in_(list(workers))
    )
    if heartbeat_before is not None:
        query = query.where(mailing_senders.c.heartbeat_at < heartbeat_before)
    with store.begin() as conn:
        conn.execute(query)


def senders(store: Store, mailing_id: int) -> list[tuple[str, datetime]]:
    """Every registered sender of a mailing and its last heartbeat, oldest first."""
    with store.connect() as conn:
        rows = conn.execute(
            select(mailing_senders.c.worker, mailing_senders.c.heartbeat_at)
            .where(mailing_senders.c.mailing_id == mailing_id)
            .order_by(mailing_senders.c.joined_at, mailing_senders.c.worker)
        )
        return [(r.worker, r.heartbeat_at) for r in rows]


def set_queued(store: Store, mailing_id: int, *, now: datetime) -> None:
    with store.begin() as conn:
        conn.execute(
            update(mailings)
            .where(mailings.c.id == mailing_id, mailings.c.queued_at.is_(None))
            .values(queued_at=now)
        )


def pause(
    store: Store,
    mailing_id: int,
    *,
    reason: str,
    now: datetime,
    resume_at: datetime | None = None,
) -> bool:
    """sending → paused; ``resume_at``: when the daemon probes again (None: a person must).

    Each automatic pause counts a failed try (``resume_tries``), so the wait before the
    next probe can grow; ``resumed`` resets the count once a delivery went through.
    """
    values: dict[str, Any] = {
        "status": str(S.PAUSED),
        "paused_reason": reason,
        "paused_at": now,
        "updated_at": now,
    }
    if resume_at is not None:
        values.update(resume_at=resume_at, resume_tries=mailings.c.resume_tries + 1)
    with store.begin() as conn:
        return bool(
            conn.execute(
                update(mailings)
                .where(mailings.c.id == mailing_id, mailings.c.status.in_(_PAUSE))
                .values(**values)
            ).rowcount
        )


def resumed(store: Store, mailing_id: int) -> None:
    """A delivery went through after a pause: the next pause waits the shortest time."""
    with store.begin() as conn:
        conn.execute(
            update(mailings)
            .where(mailings.c.id == mailing_id, mailings.c.resume_tries != 0)
            .values(resume_tries=0)
        )


def try_resume(store: Store, mailing_id: int, *, now: datetime) -> bool:
    """paused → sending, held by nobody, if its automatic retry time has come.

    One conditional UPDATE (two daemons: one wins). Whoever claims the send next finds
    ``resume_tries`` > 0 and sends a small probe batch first.
    """
    with store.begin() as conn:
        return bool(
            conn.execute(
                update(mailings)
                .where(
                    mailings.c.id == mailing_id,
                    mailings.c.status.in_(_RESUME),
                    mailings.c.resume_at.is_not(None),
                    mailings.c.resume_at <= now,
                )
                .values(status=str(S.SENDING), paused_reason=None, resume_at=None, updated_at=now)
            ).rowcount
        )


def paused_mailings(store: Store) -> list[SendingState]:
    with store.connect() as conn:
        ids = [
            r.id
            for r in conn.execute(
                select(mailings.c.id)
                .where(mailings.c.status == str(S.PAUSED))
                .order_by(mailings.c.id)
            )
        ]
    return [m for m in (mailing_state(store, i) for i in ids) if m is not None]


def due_probes(store: Store, now: datetime) -> list[int]:
    """Paused mailings whose automatic retry time has come, oldest first."""
    with store.connect() as conn:
        rows = conn.execute(
            select(mailings.c.id)
            .where(
                mailings.c.status == str(S.PAUSED),
                mailings.c.resume_at.is_not(None),
                mailings.c.resume_at <= now,
            )
            .order_by(mailings.c.id)
        )
        return [r.id for r in rows]


def finish_if_done(store: Store, mailing_id: int, *, now: datetime) -> bool:
    """sending → sent when every recipient is recorded and none is pending."""
    with store.begin() as conn:
        pending = exists().where(
            deliveries.c.mailing_id == mailing_id, deliveries.c.status.in_(PENDING)
        )
        return bool(
            conn.execute(
                update(mailings)
                .where(
                    mailings.c.id == mailing_id,
                    mailings.c.status.in_(_FINISH),
                    mailings.c.queued_at.is_not(None),
                    ~pending,
                )
                .values(status=str(S.SENT), sent_at=now, updated_at=now)
            ).rowcount
        )


def mailings_sending(store: Store) -> list[int]:
    with store.connect() as conn:
        rows = conn.execute(
            select(mailings.c.id).where(mailings.c.status == str(S.SENDING)).order_by(mailings.c.id)
        )
        return [r.id for r in rows]


# --- recording -------------------------------------------------------------------------


def enqueue(store: Store, mailing_id: int, rows: Sequence[dict[str, Any]], *, now: datetime) -> int:
    """Insert delivery rows, skipping addresses that already have one; return how many new."""
    if not rows:
        return 0
    values = [
        {**row, "mailing_id": mailing_id, "status": "queued", "created_at": now} for row in rows
    ]
    with store.begin() as conn:
        stmt: Any
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt = pg_insert(deliveries).on_conflict_do_nothing(
                index_elements=["mailing_id", "email"]
            )
        elif conn.dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt = sqlite_insert(deliveries).on_conflict_do_nothing(
                index_elements=["mailing_id", "email"]
            )
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            stmt = insert(deliveries)
        before = _count(conn, mailing_id)
        conn.execute(stmt, values)
        return _count(conn, mailing_id) - before


def _count(conn: Connection, mailing_id: int) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(deliveries)
            .where(deliveries.c.mailing_id == mailing_id)
        ).scalar_one()
    )


# --- claiming --------------------------------------------------------------------------


def claim(
    store: Store,
    mailing_id: int,
    lists: Sequence[str],
    *,
    worker: str,
    now: datetime,
    limit: int,
    lease_before: datetime,
    dead_workers: Sequence[str] = (),
    live_workers: Sequence[str] = (),
) -> tuple[list[Claimed], int]:
    """Take up to ``limit`` due deliveries; return them and how many were found suppressed.

    Due: queued; retry whose time has come; sending whose claimer is known to be dead, or
    whose claim is older than the lease and whose claimer holds no live lease (a live
    sender keeps its claims however long its batch takes). Suppression and unsubscribes
    are checked here, at the last moment, so they take effect in the middle of a send.
    """
    stale = and_(
        deliveries.c.status == "sending",
        or_(
            deliveries.c.claimed_by.in_(list(dead_workers)),
            and_(
                deliveries.c.claimed_at < lease_before,
                deliveries.c.claimed_by.not_in(list(live_workers)),
            ),
        ),
    )
    due = or_(
        deliveries.c.status == "queued",
        and_(deliveries.c.status == "retry", deliveries.c.next_attempt_at <= now),
        stale,
    )
    with store.begin() as conn:
        query = (
            select(deliveries.c.id)
            .where(deliveries.c.mailing_id == mailing_id, due)
            .order_by(deliveries.c.id)
            .limit(limit)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = [r.id for r in conn.execute(query)]
        if not ids:
            return [], 0
        rows = conn.execute(
            select(
                deliveries,
                subscribers.c.first_name,
                subscribers.c.last_name,
                subscribers.c.salutation,
                subscribers.c.title,
                subscribers.c.attributes,
                subscribers.c.email_hash,
            )
            .select_from(
                deliveries.outerjoin(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
            )
            .where(deliveries.c.id.in_(ids))
            .order_by(deliveries.c.id)
        ).all()
        blocked = _blocked(conn, rows, lists)
        if blocked:
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(sorted(blocked)))
                .values(
                    status="suppressed", claimed_by=None, last_error="suppressed or unsubscribed"
                )
            )
        keep = [r for r in rows if r.id not in blocked]
        if keep:
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id.in_([r.id for r in keep]))
                .values(
                    status="sending",
                    claimed_by=worker,
                    claimed_at=now,
                    attempts=deliveries.c.attempts + 1,
                )
            )
    claimed = [
        Claimed(
            id=r.id,
            recipient=Recipient(
                subscriber_id=r.subscriber_id or 0,
                email=r.email,
                list_name=r.list_name,
                first_name=r.first_name or "",
                last_name=r.last_name or "",
                salutation=r.salutation or "",
                title=r.title or "",
                language=r.language,
                attributes={str(k): str(v) for k, v in (r.attributes or {}).items()},
            ),
            attempts=r.attempts + 1,
            created_at=r.created_at,
            unknown_at=r.unknown_at,
            in_reply_to=r.in_reply_to,
        )
        for r in keep
    ]
    return claimed, len(blocked)


def _blocked(conn: Connection, rows: Sequence[Any], lists: Sequence[str]) -> set[int]:
    """Rows whose address is suppressed or no longer actively on any of the lists."""
    hashes = {r.email_hash for r in rows if r.email_hash}
    suppressed = set()
    if hashes:
        suppressed = {
            h
            for (h,) in conn.execute(
                select(suppressions.c.email_hash).where(suppressions.c.email_hash.in_(hashes))
            )
        }
    sub_ids = {r.subscriber_id for r in rows if r.subscriber_id is not None}
    active: set[int] = set()
    if sub_ids:
        active = {
            sid
            for (sid,) in conn.execute(
                select(subscriptions.c.subscriber_id).where(
                    subscriptions.c.subscriber_id.in_(sub_ids),
                    subscriptions.c.list_name.in_(list(lists)),
                    subscriptions.c.status == "active",
                )
            )
        }
    return {
        r.id
        for r in rows
        if r.subscriber_id is None or r.subscriber_id not in active or r.email_hash in suppressed
    }


def sending_workers(store: Store, mailing_id: int) -> list[str]:
    with store.connect() as conn:
        rows = conn.execute(
            select(deliveries.c.claimed_by)
            .where(deliveries.c.mailing_id == mailing_id, deliveries.c.status == "sending")
            .distinct()
        )
        return [r.claimed_by for r in rows if r.claimed_by]


def record(store: Store, outcomes: Sequence[Outcome], *, now: datetime) -> None:
    """Write the results of one chunk in one transaction (right after the transport answered)."""
    if not outcomes:
        return
    params = [
        {
            "b_id": o.id,
            "b_status": o.status,
            "b_error": o.error,
            "b_next": o.next_attempt_at,
            "b_mid": o.message_id,
            "b_pid": o.provider_message_id,
            "b_sent": now if o.status == "sent" else None,
            "b_unknown": now if o.unknown else None,
            "b_dup": o.possible_duplicate,
            # a delivery put back did not really have this attempt
            "b_undo": 1 if o.status == "queued" else 0,
        }
        for o in outcomes
    ]
    stmt = (
        update(deliveries)
        .where(deliveries.c.id == bindparam("b_id"))
        .values(
            status=bindparam("b_status"),
            last_error=bindparam("b_error"),
            next_attempt_at=bindparam("b_next"),
            message_id=bindparam("b_mid"),
            provider_message_id=bindparam("b_pid"),
            sent_at=bindparam("b_sent"),
            unknown_at=bindparam("b_unknown"),
            possible_duplicate=or_(
                deliveries.c.possible_duplicate, bindparam("b_dup", type_=Boolean)
            ),
            attempts=deliveries.c.attempts - bindparam("b_undo", type_=Integer),
            claimed_by=None,
        )
    )
    with store.begin() as conn:
        conn.execute(stmt, params)


def release(store: Store, ids: Sequence[int]) -> None:
    """Give claimed, unsent rows back (a clean stop): the attempt did not happen."""
    if not ids:
        return
    with store.begin() as conn:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(list(ids)), deliveries.c.status == "sending")
            .values(status="queued", claimed_by=None, attempts=deliveries.c.attempts - 1)
        )


def requeue(store: Store, ids: Sequence[int]) -> int:
    """Failed deliveries back into the queue: their refusals proved the sending broken,
    not the addresses (every recipient of several sends in a row refused)."""
    if not ids:
        return 0
    with store.begin() as conn:
        return int(
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(list(ids)), deliveries.c.status == "failed")
                .values(status="queued", attempts=deliveries.c.attempts - 1, next_attempt_at=None)
            ).rowcount
        )


def oldest_claim(store: Store, mailing_id: int) -> datetime | None:
    """When the oldest claim still in ``sending`` was made (its lease runs from then)."""
    with store.connect() as conn:
        value = conn.execute(
            select(func.min(deliveries.c.claimed_at)).where(
                deliveries.c.mailing_id == mailing_id, deliveries.c.status == "sending"
            )
        ).scalar()
    return value  # type: ignore[no-any-return]


def next_retry_at(store: Store, mailing_id: int) -> datetime | None:
    with store.connect() as conn:
        value = conn.execute(
            select(func.min(deliveries.c.next_attempt_at)).where(
                deliveries.c.mailing_id == mailing_id, deliveries.c.status == "retry"
            )
        ).scalar()
    return value  # type: ignore[no-any-return]


# --- reporting -------------------------------------------------------------------------


def counts(store: Store, mailing_id: int) -> dict[str, int]:
    """Deliveries of a mailing by status (every status present, zero when none)."""
    out = dict.fromkeys(("queued", "sending", "sent", "retry", "failed", "suppressed"), 0)
    with store.connect() as conn:
        rows = conn.execute(
            select(deliveries.c.status, func.count())
            .where(deliveries.c.mailing_id == mailing_id)
            .group_by(deliveries.c.status)
        )
        for status, n in rows:
            out[status] = int(n)
    return out


def possible_duplicates(store: Store, mailing_id: int) -> int:
    """Deliveries sent again after an unanswered attempt nobody could confirm."""
    with store.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    deliveries.c.mailing_id == mailing_id,
                    deliveries.c.possible_duplicate.is_(True),
                )
            ).scalar_one()
        )


def top_errors(store: Store, mailing_id: int, *, limit: int = 5) -> list[tuple[str, int]]:
    """The most common last errors of failed and retrying deliveries."""
    with store.connect() as conn:
        n = func.count().label("n")
        rows = conn.execute(
            select(deliveries.c.last_error, n)
            .where(
                deliveries.c.mailing_id == mailing_id,
                deliveries.c.status.in_(("failed", "retry")),
                deliveries.c.last_error.is_not(None),
            )
            .group_by(deliveries.c.last_error)
            .order_by(n.desc(), deliveries.c.last_error)
            .limit(limit)
        )
        return [(r.last_error, int(r.n)) for r in rows]


# --- rate limits -----------------------------------------------------------------------


def lock_rate_limit(conn: Connection, name: str, *, now: datetime, tokens: float) -> RateState:
    """The bucket row, locked for this transaction (created full on first use)."""
    query = select(rate_limits).where(rate_limits.c.name == name)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            conn.execute(
                pg_insert(rate_limits)
                .values(name=name, tokens=tokens, updated_at=now, hour_count=0)
                .on_conflict_do_nothing(index_elements=["name"])
            )
        else:
            conn.execute(
                insert(rate_limits).values(name=name, tokens=tokens, updated_at=now, hour_count=0)
            )
        row = conn.execute(query).first()
    assert row is not None
    return RateState(row.tokens, row.updated_at, row.blocked_until, row.hour_start, row.hour_count)


def save_rate_limit(
    conn: Connection,
    name: str,
    *,
    tokens: float,
    updated_at: datetime,
    hour_start: datetime,
    hour_count: int,
) -> None:
    conn.execute(
        update(rate_limits)
        .where(rate_limits.c.name == name)
        .values(tokens=tokens, updated_at=updated_at, hour_start=hour_start, hour_count=hour_count)
    )


def block_rate_limit(conn: Connection, name: str, *, until: datetime) -> None:
    conn.execute(
        update(rate_limits)
        .where(
            rate_limits.c.name == name,
            or_(rate_limits.c.blocked_until.is_(None), rate_limits.c.blocked_until < until),
        )
        .values(blocked_until=until)
    )
