"""Mailings and their items in order: reads, inserts and conditional updates.

Persistence only. The lifecycle's rules (which step is allowed, what an edit does to an
approved mailing, when approval schedules) live in the workflow layer
(``pipeline.mailings``); here every status change is one ``UPDATE … WHERE status IN
(expected)``, so of two callers moving the same mailing exactly one wins, and each step
is checked against the one table of steps (``models.MAILING_STEPS``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from pipeline.clock import Clock
from pipeline.errors import ComposeError
from pipeline.models import FollowKind, Mailing, MailingKind, MailingStatus, steps_from
from pipeline.store import Store
from pipeline.store.schema import mailing_items, mailings, renders

S = MailingStatus

# --- reading ---------------------------------------------------------------------------


def _item_ids(conn: Connection, mailing_ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {mid: [] for mid in mailing_ids}
    if not mailing_ids:
        return out
    rows = conn.execute(
        select(mailing_items.c.mailing_id, mailing_items.c.item_id)
        .where(mailing_items.c.mailing_id.in_(mailing_ids))
        .order_by(mailing_items.c.mailing_id, mailing_items.c.position)
    )
    for mid, iid in rows:
        out[mid].append(iid)
    return out


def _to_mailing(row: Any, item_ids: Iterable[int]) -> Mailing:
    return Mailing(
        id=row.id,
        kind=MailingKind(row.kind),
        status=MailingStatus(row.status),
        subject=row.subject,
        intro_md=row.intro_md or "",
        preheader=row.preheader or "",
        languages=tuple(row.languages or ()),
        lists=tuple(row.lists or ()),
        item_ids=tuple(item_ids),
        period_key=row.period_key,
        send_at=row.send_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        approved_at=row.approved_at,
        sent_at=row.sent_at,
        paused_reason=row.paused_reason,
        approved_by=row.approved_by,
        composed_by=row.composed_by,
        last_edited_by=row.last_edited_by,
        segment_where=row.segment_where,
        segment_name=row.segment_name,
        embargo_at=row.embargo_at,
        follows_id=row.follows_id,
        follow_kind=FollowKind(row.follow_kind) if row.follow_kind else None,
    )


def find_mailing(store: Store, mailing_id: int) -> Mailing | None:
    """The mailing with this id, or None."""
    with store.connect() as conn:
        row = conn.execute(select(mailings).where(mailings.c.id == mailing_id)).first()
        if row is None:
            return None
        return _to_mailing(row, _item_ids(conn, [row.id])[row.id])


def get_mailing(store: Store, mailing_id: int) -> Mailing:
    """The mailing with this id; ``ComposeError`` if there is none."""
    found = find_mailing(store, mailing_id)
    if found is None:
        raise ComposeError(f"mailing {mailing_id}: no such mailing")
    return found


def list_mailings(
    store: Store,
    *,
    status: MailingStatus | str | Iterable[MailingStatus | str] | None = None,
    kind: MailingKind | str | None = None,
) -> list[Mailing]:
    """Mailings, newest first, optionally only those of one kind or status (or statuses)."""
    query = select(mailings).order_by(mailings.c.created_at.desc(), mailings.c.id.desc())
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        query = query.where(mailings.c.status.in_([str(s) for s in wanted]))
    if kind is not None:
        query = query.where(mailings.c.kind == str(kind))
    with store.connect() as conn:
        rows = conn.execute(query).all()
        ids = _item_ids(conn, [r.id for r in rows])
    return [_to_mailing(r, ids[r.id]) for r in rows]


def mailing_for_period(store: Store, period_key: str) -> Mailing | None:
    """The mailing that holds this period (``newsletter:2026-W25``), if any."""
    with store.connect() as conn:
        row = conn.execute(select(mailings.c.id).where(mailings.c.period_key == period_key)).first()
    return None if row is None else find_mailing(store, row.id)


def used_item_ids(
    store: Store, *, statuses: Iterable[MailingStatus], kind: MailingKind = MailingKind.NEWSLETTER
) -> set[int]:
    """Items already in a mailing of ``kind`` in one of ``statuses``."""
    query = (
        select(mailing_items.c.item_id)
        .join(mailings, mailings.c.id == mailing_items.c.mailing_id)
        .where(mailings.c.kind == str(kind))
        .where(mailings.c.status.in_([str(s) for s in statuses]))
    )
    with store.connect() as conn:
        return {row[0] for row in conn.execute(query)}


def press_mailings_for_item(store: Store, item_id: int) -> list[Mailing]:
    """Press mailings (not cancelled) made from this item."""
    query = (
        select(mailings.c.id)
        .join(mailing_items, mailings.c.id == mailing_items.c.mailing_id)
        .where(mailings.c.kind == str(MailingKind.PRESS))
        .where(mailings.c.status != str(S.CANCELLED))
        .where(mailing_items.c.item_id == item_id)
    )
    with store.connect() as conn:
        ids = [row[0] for row in conn.execute(query)]
    return [get_mailing(store, mid) for mid in ids]


# --- writing ---------------------------------------------------------------------------


def create_mailing(
    store: Store,
    *,
    kind: MailingKind,
    subject: str,
    item_ids: Sequence[int],
    languages: Sequence[str],
    lists: Sequence[str],
    clock: Clock,
    intro_md: str = "",
    preheader: str = "",
    period_key: str | None = None,
    send_at: datetime | None = None,
    embargo_at: datetime | None = None,
    composed_by: str | None = None,
    segment_where: str | None = None,
    segment_name: str | None = None,
    follows_id: int | None = None,
    follow_kind: FollowKind | None = None,
) -> Mailing | None:
    """Insert a draft (``composed_by`` is also its last editor); None when ``period_key`` is already taken (a concurrent compose)."""
    if len(set(item_ids)) != len(item_ids):
        raise ComposeError("a mailing cannot contain the same item twice")
    now = clock.now()
    try:
        with store.begin() as conn:
            result = conn.execute(
                insert(mailings).values(
                    kind=str(kind),
                    status=str(S.DRAFT),
                    subject=subject,
                    intro_md=intro_md,
                    preheader=preheader,
                    languages=list(languages),
                    lists=list(lists),
                    period_key=period_key,
                    send_at=send_at,
                    embargo_at=embargo_at,
                    composed_by=composed_by,
                    last_edited_by=composed_by,
                    segment_where=segment_where,
                    segment_name=segment_name,
                    follows_id=follows_id,
                    follow_kind=str(follow_kind) if follow_kind else None,
                    created_at=now,
                    updated_at=now,
                )
            )
            mailing_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            _write_items(conn, mailing_id, item_ids)
    except IntegrityError as exc:
        if period_key is not None and mailing_for_period(store, period_key) is not None:
            return None
        raise ComposeError(f"cannot create the mailing: {exc.orig}") from exc
    return get_mailing(store, mailing_id)


def _write_items(conn: Connection, mailing_id: int, item_ids: Sequence[int]) -> None:
    conn.execute(delete(mailing_items).where(mailing_items.c.mailing_id == mailing_id))
    if item_ids:
        conn.execute(
            insert(mailing_items),
            [
                {"mailing_id": mailing_id, "item_id": iid, "position": pos}
                for pos, iid in enumerate(item_ids, start=1)
            ],
        )


def status_in(conn: Connection, mailing_id: int) -> MailingStatus:
    row = conn.execute(select(mailings.c.status).where(mailings.c.id == mailing_id)).first()
    if row is None:
        raise ComposeError(f"mailing {mailing_id}: no such mailing")
    return MailingStatus(row.status)


def update_mailing(
    store: Store,
    mailing_id: int,
    *,
    expected: Iterable[MailingStatus],
    now: datetime,
    values: dict[str, Any],
    item_ids: Sequence[int] | None = None,
) -> bool:
    """Change fields (and the items) of a mailing still in one of ``expected``; its
    renders are deleted in the same transaction. False when the status had moved on."""
    wanted = [str(s) for s in expected]
    values = {**values, "updated_at": now}
    if "status" in values:
        target = MailingStatus(values["status"])
        steps_from(target, *(MailingStatus(s) for s in wanted if s != target))
    with store.begin() as conn:
        status_in(conn, mailing_id)  # ComposeError for an unknown mailing
        changed = conn.execute(
            update(mailings)
            .where(mailings.c.id == mailing_id, mailings.c.status.in_(wanted))
            .values(**values)
        ).rowcount
        if not changed:
            return False
        if item_ids is not None:
            _write_items(conn, mailing_id, item_ids)
        conn.execute(delete(renders).where(renders.c.mailing_id == mailing_id))
    return True


def set_status(
    store: Store,
    mailing_id: int,
    status: MailingStatus,
    *,
    expected: MailingStatus | Iterable[MailingStatus],
    now: datetime,
    by: str | None = None,
    reason: str | None = None,
    version: datetime | None = None,
) -> bool:
    """Move a mailing from one of ``expected`` to ``status`` in one conditional UPDATE,
    with the columns that record the step; False when it was no longer in ``expected``
    (or, with ``version``, when it was changed since: ``updated_at`` differs).

    A pair that is not a step of the lifecycle is a programming error (``ValueError``).
    """
    sources = [expected] if isinstance(expected, MailingStatus) else list(expected)
    allowed = steps_from(status, *sources)
    values: dict[str, Any] = {"status": str(status), "updated_at": now}
    if status in (S.APPROVED, S.SCHEDULED):
        values.update(approved_at=now, approved_by=by)
    elif status == S.DRAFT:
        values.update(approved_at=None, approved_by=None)
    elif status == S.SENDING:
        values.update(
            sending_started_at=func.coalesce(mailings.c.sending_started_at, now),
            paused_reason=None,
        )
    elif status == S.PAUSED:
        values.update(paused_reason=reason)
    elif status == S.SENT:
        values.update(sent_at=now)
    elif status == S.CANCELLED:
        values.update(cancelled_at=now, period_key=None)
    with store.begin() as conn:
        status_in(conn, mailing_id)  # ComposeError for an unknown mailing
        query = update(mailings).where(mailings.c.id == mailing_id, mailings.c.status.in_(allowed))
        if version is not None:
            query = query.where(mailings.c.updated_at == version)
        changed = conn.execute(query.values(**values)).rowcount
        if changed and status == S.DRAFT:
            conn.execute(delete(renders).where(renders.c.mailing_id == mailing_id))
    return bool(changed)


def make_due(store: Store, mailing_id: int, *, now: datetime) -> bool:
    """Make an approved mailing ``scheduled`` for ``now`` (its approval and render stay):
    the daemon's next look sends it. False when it was no longer approved."""
    allowed = steps_from(S.SCHEDULED, S.APPROVED)
    with store.begin() as conn:
        status_in(conn, mailing_id)  # ComposeError for an unknown mailing
        changed = conn.execute(
            update(mailings)
            .where(mailings.c.id == mailing_id, mailings.c.status.in_(allowed))
            .values(status=str(S.SCHEDULED), send_at=now, updated_at=now)
        ).rowcount
    return bool(changed)


def approved_by(store: Store, mailing_id: int) -> str | None:
    with store.connect() as conn:
        row = conn.execute(
            select(mailings.c.approved_by).where(mailings.c.id == mailing_id)
        ).first()
    return None if row is None else row.approved_by
