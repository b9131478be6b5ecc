"""System mail queries: record a finished message, claim due ones, record the outcome.

Claims work like the delivery outbox's (``store.outbox.claim``): one transaction that
selects due rows and marks them ``sending`` for one worker. On SQLite the write lock
taken at ``BEGIN IMMEDIATE`` serialises claimers; on PostgreSQL ``FOR UPDATE SKIP
LOCKED`` gives concurrent claimers disjoint rows. A ``sending`` row whose claim is older
than the lease (its drainer died) is due again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from pipeline.store import Store
from pipeline.store.schema import system_mail

KINDS = ("confirmation", "notification", "test_copy", "welcome")
STATUSES = ("queued", "sending", "sent", "retry", "failed")


@dataclass(frozen=True)
class SystemMail:
    id: int
    kind: str
    recipient: str
    envelope_from: str
    message_id: str
    data: bytes
    parts: dict[str, Any] | None
    status: str
    attempts: int  # including a claimed attempt under way
    created_at: datetime
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    provider_message_id: str | None = None
    subscriber_id: int | None = None
    list_name: str | None = None
    sent_at: datetime | None = None
    once_key: str | None = None


@dataclass(frozen=True)
class MailOutcome:
    id: int
    status: str  # sent | retry | failed
    error: str | None = None
    next_attempt_at: datetime | None = None
    provider_message_id: str | None = None
    attempt_counts: bool = True  # False: the attempt was not this message's fault


def _row(r: Any) -> SystemMail:
    return SystemMail(
        id=r.id,
        kind=r.kind,
        recipient=r.recipient,
        envelope_from=r.envelope_from,
        message_id=r.message_id,
        data=r.data.encode("ascii"),
        parts=r.parts,
        status=r.status,
        attempts=r.attempts,
        created_at=r.created_at,
        next_attempt_at=r.next_attempt_at,
        last_error=r.last_error,
        provider_message_id=r.provider_message_id,
        subscriber_id=r.subscriber_id,
        list_name=r.list_name,
        sent_at=r.sent_at,
        once_key=r.once_key,
    )


def add(
    store: Store,
    *,
    kind: str,
    recipient: str,
    envelope_from: str,
    message_id: str,
    data: bytes,
    parts: dict[str, Any] | None,
    now: datetime,
    subscriber_id: int | None = None,
    list_name: str | None = None,
    once_key: str | None = None,
) -> int:
    """Record a finished message as ``queued``; its id. With ``once_key``, a second
    message of the same key raises ``IntegrityError`` (``add_once`` says None instead)."""
    if kind not in KINDS:
        raise ValueError(f"unknown system mail kind {kind!r}")
    with store.begin() as conn:
        result = conn.execute(
            insert(system_mail).values(
                kind=kind,
                recipient=recipient,
                envelope_from=envelope_from,
                message_id=message_id,
                data=data.decode("ascii"),
                parts=parts,
                status="queued",
                attempts=0,
                subscriber_id=subscriber_id,
                list_name=list_name,
                once_key=once_key,
                created_at=now,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def add_once(store: Store, *, once_key: str, **fields: Any) -> int | None:
    """``add`` a message that may exist once only: its id, or None when a message of
    ``once_key`` was recorded before (by this process or another: the unique index
    decides, not a look first)."""
    try:
        return add(store, once_key=once_key, **fields)
    except IntegrityError:
        return None


def last_recorded(
    store: Store, *, kind: str, subscriber_id: int, list_name: str
) -> datetime | None:
    """When the newest message of ``kind`` for a subscription was recorded (None: never)."""
    with store.connect() as conn:
        value: datetime | None = conn.execute(
            select(func.max(system_mail.c.created_at)).where(
                system_mail.c.kind == kind,
                system_mail.c.subscriber_id == subscriber_id,
                system_mail.c.list_name == list_name,
            )
        ).scalar()
    return value


def claim(
    store: Store,
    *,
    worker: str,
    now: datetime,
    lease_before: datetime,
    limit: int,
    ids: Sequence[int] | None = None,
) -> list[SystemMail]:
    """Take up to ``limit`` due messages (only ``ids`` if given) for ``worker``.

    Due: queued; retry whose time has come; sending whose claim is older than the lease.
    """
    due = or_(
        system_mail.c.status == "queued",
        and_(system_mail.c.status == "retry", system_mail.c.next_attempt_at <= now),
        and_(system_mail.c.status == "sending", system_mail.c.claimed_at < lease_before),
    )
    with store.begin() as conn:
        query = select(system_mail.c.id).where(due).order_by(system_mail.c.id).limit(limit)
        if ids is not None:
            query = query.where(system_mail.c.id.in_(list(ids)))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        found = [r.id for r in conn.execute(query)]
        if not found:
            return []
        conn.execute(
            update(system_mail)
            .where(system_mail.c.id.in_(found))
            .values(
                status="sending",
                claimed_by=worker,
                claimed_at=now,
                attempts=system_mail.c.attempts + 1,
            )
        )
        rows = conn.execute(
            select(system_mail).where(system_mail.c.id.in_(found)).order_by(system_mail.c.id)
        ).all()
    return [_row(r) for r in rows]


def record(store: Store, outcomes: Sequence[MailOutcome], *, worker: str, now: datetime) -> None:
    """Mark claimed messages; only while ``worker`` still holds them (a drainer whose
    lease ran out and was overtaken must not overwrite the newer attempt's result)."""
    with store.begin() as conn:
        for outcome in outcomes:
            values: dict[str, Any] = {
                "status": outcome.status,
                "last_error": outcome.error[:2000] if outcome.error else None,
                "next_attempt_at": outcome.next_attempt_at,
                "claimed_by": None,
                "claimed_at": None,
            }
            if outcome.status == "sent":
                values["sent_at"] = now
                values["provider_message_id"] = outcome.provider_message_id
            if not outcome.attempt_counts:
                values["attempts"] = system_mail.c.attempts - 1
            conn.execute(
                update(system_mail)
                .where(
                    system_mail.c.id == outcome.id,
                    system_mail.c.status == "sending",
                    system_mail.c.claimed_by == worker,
                )
                .values(**values)
            )


def get(store: Store, mail_id: int) -> SystemMail | None:
    with store.connect() as conn:
        row = conn.execute(select(system_mail).where(system_mail.c.id == mail_id)).first()
    return _row(row) if row is not None else None


def list_mail(
    store: Store, *, statuses: Sequence[str] | None = None, limit: int = 100
) -> list[SystemMail]:
    """The newest messages first (optionally of some statuses only)."""
    query = select(system_mail).order_by(system_mail.c.id.desc()).limit(limit)
    if statuses is not None:
        query = query.where(system_mail.c.status.in_(list(statuses)))
    with store.connect() as conn:
        return [_row(r) for r in conn.execute(query)]


def counts(store: Store) -> dict[str, int]:
    """Messages per status (every status present, zero if none)."""
    with store.connect() as conn:
        rows = conn.execute(
            select(system_mail.c.status, func.count()).group_by(system_mail.c.status)
        ).all()
    out = dict.fromkeys(STATUSES, 0)
    out.update({str(status): int(n) for status, n in rows})
    return out


def next_due_at(store: Store) -> datetime | None:
    """When the next retry falls due (None: no retry waiting)."""
    with store.connect() as conn:
        value: datetime | None = conn.execute(
            select(func.min(system_mail.c.next_attempt_at)).where(system_mail.c.status == "retry")
        ).scalar()
    return value


def scrub_person(conn: Connection, *, subscriber_id: int | None, email: str) -> int:
    """Erasure: the messages to ``email`` (or of ``subscriber_id``) no longer hold the
    address, the name or the body; what has not gone out yet never goes (``failed``,
    and a drainer holding one cannot overwrite that: ``record`` asks for ``sending``).
    The rows stay, so the counts and a welcome's key do. How many were scrubbed."""
    whose = system_mail.c.recipient == email
    if subscriber_id is not None:
        whose = or_(whose, system_mail.c.subscriber_id == subscriber_id)
    ids = [r.id for r in conn.execute(select(system_mail.c.id).where(whose))]
    for mail_id in ids:
        conn.execute(
            update(system_mail)
            .where(system_mail.c.id == mail_id)
            .values(recipient=f"erased:{mail_id}", data="", parts=None, subscriber_id=None)
        )
    conn.execute(
        update(system_mail)
        .where(system_mail.c.id.in_(ids), system_mail.c.status.in_(("queued", "retry", "sending")))
        .values(
            status="failed",
            last_error="erased on request",
            next_attempt_at=None,
            claimed_by=None,
            claimed_at=None,
        )
    )
    return len(ids)


def of_person(conn: Connection, *, subscriber_id: int | None, email: str) -> list[SystemMail]:
    """The messages to ``email`` (or of ``subscriber_id``), oldest first: for the export
    of what is held on a person."""
    whose = system_mail.c.recipient == email
    if subscriber_id is not None:
        whose = or_(whose, system_mail.c.subscriber_id == subscriber_id)
    rows = conn.execute(select(system_mail).where(whose).order_by(system_mail.c.id)).all()
    return [_row(r) for r in rows]
