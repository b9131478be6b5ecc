"""Mailings and their items in order, moved along a checked lifecycle (renders: ``renders``).

The lifecycle is checked here, in one table (``TRANSITIONS``), so neither the CLI nor
the web pages nor the sender can move a mailing into a state it must not reach:

    draft ──approve──▶ approved ──▶ scheduled ──▶ sending ──▶ sent
      ▲                   │             │           │  ▲
      └──── edit ─────────┴─────────────┘           ▼  │
                                                  paused
    draft | approved | scheduled | paused ──cancel──▶ cancelled

Editing a mailing that is approved or scheduled returns it to ``draft`` and deletes its
renders: what an editor approved is exactly what is sent, so any change needs a new
approval. Once sending has started a mailing can no longer be edited.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from pipeline.clock import Clock
from pipeline.errors import ComposeError
from pipeline.models import Mailing, MailingKind, MailingStatus
from pipeline.store import Store
from pipeline.store.schema import mailing_items, mailings, renders

S = MailingStatus

TRANSITIONS: dict[MailingStatus, frozenset[MailingStatus]] = {
    S.DRAFT: frozenset({S.APPROVED, S.CANCELLED}),
    S.APPROVED: frozenset({S.DRAFT, S.SCHEDULED, S.SENDING, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.DRAFT, S.APPROVED, S.SENDING, S.CANCELLED}),
    S.SENDING: frozenset({S.PAUSED, S.SENT}),
    S.PAUSED: frozenset({S.SENDING, S.CANCELLED}),
    S.SENT: frozenset(),
    S.CANCELLED: frozenset(),
}

EDITABLE = frozenset({S.DRAFT, S.APPROVED, S.SCHEDULED})
# Newsletters in these states have gone out or are committed to; their items are used.
COMMITTED = frozenset({S.APPROVED, S.SCHEDULED, S.SENDING, S.PAUSED, S.SENT})

_UNSET: Any = object()


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


def used_item_ids(store: Store, *, kind: MailingKind = MailingKind.NEWSLETTER) -> set[int]:
    """Items already in a mailing of ``kind`` that was sent or is committed to be sent."""
    query = (
        select(mailing_items.c.item_id)
        .join(mailings, mailings.c.id == mailing_items.c.mailing_id)
        .where(mailings.c.kind == str(kind))
        .where(mailings.c.status.in_([str(s) for s in COMMITTED]))
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
) -> Mailing | None:
    """Insert a draft; None when ``period_key`` is already taken (a concurrent compose)."""
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


def check_transition(mailing_id: int, current: MailingStatus, wanted: MailingStatus) -> None:
    """Raise ``ComposeError`` unless ``current → wanted`` is an allowed step."""
    if wanted not in TRANSITIONS[current]:
        raise ComposeError(f"mailing {mailing_id} is {current}; it cannot become {wanted}")


def edit_mailing(
    store: Store,
    mailing_id: int,
    *,
    clock: Clock,
    subject: str | None = None,
    intro_md: str | None = None,
    preheader: str | None = None,
    item_ids: Sequence[int] | None = None,
    send_at: datetime | None = _UNSET,
    lists: Sequence[str] | None = None,
) -> Mailing:
    """Change a mailing; an approved or scheduled one returns to draft (renders dropped)."""
    values: dict[str, Any] = {}
    if subject is not None:
        if not subject.strip():
            raise ComposeError(f"mailing {mailing_id}: the subject cannot be empty")
        values["subject"] = subject.strip()
    if intro_md is not None:
        values["intro_md"] = intro_md
    if preheader is not None:
        values["preheader"] = preheader.strip()
    if send_at is not _UNSET:
        values["send_at"] = send_at
    if lists is not None:
        values["lists"] = list(lists)
    if item_ids is not None and len(set(item_ids)) != len(item_ids):
        raise ComposeError(f"mailing {mailing_id}: the same item cannot appear twice")
    with store.begin() as conn:
        current = status_in(conn, mailing_id)
        if current not in EDITABLE:
            raise ComposeError(f"mailing {mailing_id} is {current}; it can no longer be edited")
        if current != S.DRAFT:
            values.update(status=str(S.DRAFT), approved_at=None, approved_by=None)
        values["updated_at"] = clock.now()
        conn.execute(update(mailings).where(mailings.c.id == mailing_id).values(**values))
        if item_ids is not None:
            _write_items(conn, mailing_id, item_ids)
        conn.execute(delete(renders).where(renders.c.mailing_id == mailing_id))
    return get_mailing(store, mailing_id)


def drop_item(store: Store, mailing_id: int, item_id: int, *, clock: Clock) -> Mailing:
    """Remove one item from a mailing (``ComposeError`` if it is not in it)."""
    ids = list(get_mailing(store, mailing_id).item_ids)
    if item_id not in ids:
        raise ComposeError(f"mailing {mailing_id}: item {item_id} is not in this mailing")
    ids.remove(item_id)
    return edit_mailing(store, mailing_id, clock=clock, item_ids=ids)


def move_item(
    store: Store, mailing_id: int, item_id: int, position: int, *, clock: Clock
) -> Mailing:
    """Move an item to ``position`` (1 is the first)."""
    ids = list(get_mailing(store, mailing_id).item_ids)
    if item_id not in ids:
        raise ComposeError(f"mailing {mailing_id}: item {item_id} is not in this mailing")
    if not 1 <= position <= len(ids):
        raise ComposeError(f"mailing {mailing_id}: position {position} is outside 1..{len(ids)}")
    ids.remove(item_id)
    ids.insert(position - 1, item_id)
    return edit_mailing(store, mailing_id, clock=clock, item_ids=ids)


def set_status(
    store: Store,
    mailing_id: int,
    status: MailingStatus,
    *,
    clock: Clock,
    by: str | None = None,
    reason: str | None = None,
) -> Mailing:
    """Move a mailing one step along its lifecycle; ``ComposeError`` if not allowed."""
    now = clock.now()
    with store.begin() as conn:
        current = status_in(conn, mailing_id)
        check_transition(mailing_id, current, status)
        values: dict[str, Any] = {"status": str(status), "updated_at": now}
        if status == S.APPROVED:
            _check_rendered(conn, mailing_id)
            values.update(approved_at=now, approved_by=by)
        elif status == S.DRAFT:
            values.update(approved_at=None, approved_by=None)
            conn.execute(delete(renders).where(renders.c.mailing_id == mailing_id))
        elif status == S.SENDING and current != S.PAUSED:
            values.update(sending_started_at=now, paused_reason=None)
        elif status == S.SENDING:
            values.update(paused_reason=None)
        elif status == S.PAUSED:
            values.update(paused_reason=reason)
        elif status == S.SENT:
            values.update(sent_at=now)
        elif status == S.CANCELLED:
            values.update(cancelled_at=now, period_key=None)
        conn.execute(
            update(mailings)
            .where(mailings.c.id == mailing_id)
            .where(mailings.c.status == str(current))
            .values(**values)
        )
    return get_mailing(store, mailing_id)


def _check_rendered(conn: Connection, mailing_id: int) -> None:
    # Checked in the approving transaction: an edit that dropped the render a moment
    # earlier cannot slip through as an approval without one.
    row = conn.execute(select(mailings.c.languages).where(mailings.c.id == mailing_id)).first()
    wanted = set(row.languages or ()) if row else set()
    have = {
        r.language
        for r in conn.execute(select(renders.c.language).where(renders.c.mailing_id == mailing_id))
    }
    missing = sorted(wanted - have) if wanted else ([] if have else ["any language"])
    if missing:
        raise ComposeError(
            f"mailing {mailing_id} has no render for {', '.join(missing)}; render it first"
        )


def approve(
    store: Store, mailing_id: int, *, clock: Clock, by: str, settings: Any = None
) -> Mailing:
    """Approve a draft. With ``settings`` it is rendered (and checked) first; without, a
    stored render for every language must exist already (``render_mailing``)."""
    mailing = get_mailing(store, mailing_id)
    check_transition(mailing_id, mailing.status, S.APPROVED)
    if not mailing.item_ids:
        raise ComposeError(f"mailing {mailing_id} has no items; add some or cancel it")
    if settings is not None:
        from pipeline.render import render_mailing  # render builds on this module

        render_mailing(settings, store, mailing_id, clock=clock)
    return set_status(store, mailing_id, S.APPROVED, clock=clock, by=by)


def cancel(store: Store, mailing_id: int, *, clock: Clock, by: str | None = None) -> Mailing:
    """Cancel a mailing that has not started sending (its period is freed again)."""
    return set_status(store, mailing_id, S.CANCELLED, clock=clock, by=by)


def approved_by(store: Store, mailing_id: int) -> str | None:
    with store.connect() as conn:
        row = conn.execute(
            select(mailings.c.approved_by).where(mailings.c.id == mailing_id)
        ).first()
    return None if row is None else row.approved_by
