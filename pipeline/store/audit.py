"""Queries of the audit log (``audit``): persistence only.

What is recorded, and that personal data stays out of it, is decided in
``pipeline.audit``; here rows are written, read and scrubbed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update

from pipeline.store import Store, Unit
from pipeline.store.schema import audit


@dataclass(frozen=True)
class AuditEntry:
    """One thing done by one actor: who (email, role), from where (channel, address),
    what (action, target), when (at), in words (summary) and in data (details)."""

    id: int
    at: datetime
    actor_email: str
    actor_role: str
    channel: str
    address: str
    action: str
    target_kind: str
    target_id: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


def _entry(row: Any) -> AuditEntry:
    details = json.loads(row.details) if row.details else {}
    return AuditEntry(
        id=int(row.id),
        at=row.at,
        actor_email=row.actor_email,
        actor_role=row.actor_role,
        channel=row.channel,
        address=row.address or "",
        action=row.action,
        target_kind=row.target_kind or "",
        target_id=row.target_id or "",
        summary=row.summary or "",
        details=details if isinstance(details, dict) else {"value": details},
    )


def insert_entry(
    store: Store,
    *,
    at: datetime,
    actor_email: str,
    actor_role: str,
    channel: str,
    address: str,
    action: str,
    target_kind: str,
    target_id: str,
    summary: str,
    details: dict[str, Any],
    conn: Unit | None = None,
) -> int:
    """Write one entry (inside ``conn`` when given, else in its own transaction)."""
    values = dict(
        at=at,
        actor_email=actor_email[:320],
        actor_role=actor_role[:16],
        channel=channel[:16],
        address=address[:64],
        action=action[:64],
        target_kind=target_kind[:32],
        target_id=target_id[:64],
        summary=summary,
        details=json.dumps(details, ensure_ascii=False, sort_keys=True, default=str),
    )
    if conn is not None:
        return _insert(conn, values)
    with store.begin() as own:
        return _insert(own, values)


def _insert(conn: Unit, values: dict[str, Any]) -> int:
    key = conn.execute(insert(audit).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def select_entries(
    store: Store,
    *,
    targets: Iterable[tuple[str, str]] = (),
    actor_email: str | None = None,
    since: datetime | None = None,
    after: int | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Entries, oldest first: of any of ``targets`` (kind, id) if given, by
    ``actor_email`` (case-insensitive) if given, at or after ``since`` if given, with an
    id above ``after`` if given (the API's pages)."""
    query = select(audit)
    if after is not None:
        query = query.where(audit.c.id > after)
    wanted = list(targets)
    if wanted:
        query = query.where(
            or_(*((audit.c.target_kind == k) & (audit.c.target_id == i) for k, i in wanted))
        )
    if actor_email is not None:
        query = query.where(audit.c.actor_email == actor_email.strip().lower())
    if since is not None:
        query = query.where(audit.c.at >= since)
    query = query.order_by(audit.c.at, audit.c.id)
    if limit is not None:
        query = query.limit(limit)
    with store.connect() as conn:
        rows = conn.execute(query).all()
    return [_entry(r) for r in rows]


def entries_mentioning(store: Store, needles: Iterable[str]) -> list[AuditEntry]:
    """Entries whose summary or details contain any of ``needles`` (case-insensitive)."""
    found: dict[int, AuditEntry] = {}
    for needle in {n.strip().lower() for n in needles if n.strip()}:
        pattern = f"%{needle}%"
        with store.connect() as conn:
            rows = conn.execute(
                select(audit).where(
                    or_(audit.c.summary.ilike(pattern), audit.c.details.ilike(pattern))
                )
            ).all()
        found.update((int(r.id), _entry(r)) for r in rows)
    return [found[k] for k in sorted(found)]


def rewrite_entry(
    store: Store, entry_id: int, *, summary: str, details: dict[str, Any], address: str
) -> None:
    """Replace an entry's summary, details and address (erasure scrubs personal data)."""
    with store.begin() as conn:
        conn.execute(
            update(audit)
            .where(audit.c.id == entry_id)
            .values(
                summary=summary,
                details=json.dumps(details, ensure_ascii=False, sort_keys=True, default=str),
                address=address[:64],
            )
        )
