"""Segments saved by name (``saved_segments``): persistence only; the rules (names,
shadowing of ``[segments]``, the parse check) are the workflow's
(``pipeline.mailings.saved_segments``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from pipeline.store import Store
from pipeline.store.schema import saved_segments


@dataclass(frozen=True)
class SavedSegment:
    name: str
    expression: str
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


def list_saved(store: Store) -> list[SavedSegment]:
    """Every saved segment, by name."""
    with store.connect() as conn:
        rows = conn.execute(select(saved_segments).order_by(saved_segments.c.name)).all()
    return [_segment(r) for r in rows]


def find_saved(store: Store, name: str) -> SavedSegment | None:
    with store.connect() as conn:
        row = conn.execute(select(saved_segments).where(saved_segments.c.name == name)).first()
    return _segment(row) if row is not None else None


def insert_saved(store: Store, name: str, expression: str, *, by: str, now: datetime) -> bool:
    """Add a segment; False when the name is taken (the unique key decides, so two
    people saving the same name at once get one segment and one refusal)."""
    try:
        with store.begin() as conn:
            conn.execute(
                insert(saved_segments).values(
                    name=name,
                    expression=expression,
                    created_by=by,
                    created_at=now,
                    updated_by=by,
                    updated_at=now,
                )
            )
    except IntegrityError:
        return False
    return True


def replace_saved(store: Store, name: str, expression: str, *, by: str, now: datetime) -> bool:
    """Change the condition of a saved segment; False when there is none of that name."""
    with store.begin() as conn:
        result = conn.execute(
            update(saved_segments)
            .where(saved_segments.c.name == name)
            .values(expression=expression, updated_by=by, updated_at=now)
        )
    return bool(result.rowcount)


def delete_saved(store: Store, name: str) -> bool:
    """Remove a saved segment; False when there is none of that name."""
    with store.begin() as conn:
        result = conn.execute(delete(saved_segments).where(saved_segments.c.name == name))
    return bool(result.rowcount)


def _segment(row: Any) -> SavedSegment:
    m = row._mapping
    return SavedSegment(
        name=m["name"],
        expression=m["expression"],
        created_by=m["created_by"],
        created_at=m["created_at"],
        updated_by=m["updated_by"],
        updated_at=m["updated_at"],
    )
