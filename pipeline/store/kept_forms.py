"""Queries of the forms kept over a log-in (``kept_forms``): persistence only.

What is kept, for how long and for whom is decided in ``pipeline.web.kept_forms``;
here rows are written, taken (read and deleted at once) and purged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select

from pipeline.store import Store
from pipeline.store.schema import kept_forms


@dataclass(frozen=True)
class KeptForm:
    token_hash: str
    account: str | None
    endpoint: str
    page: str
    fields: dict[str, str]
    created_at: datetime


def keep_form(store: Store, form: KeptForm, *, purge_before: datetime) -> None:
    """Store ``form`` (and drop forms kept before ``purge_before``)."""
    with store.begin() as conn:
        conn.execute(delete(kept_forms).where(kept_forms.c.created_at < purge_before))
        conn.execute(
            insert(kept_forms).values(
                token_hash=form.token_hash,
                account=form.account,
                endpoint=form.endpoint,
                page=form.page,
                fields=dict(form.fields),
                created_at=form.created_at,
            )
        )


def take_form(store: Store, token_hash: str) -> KeptForm | None:
    """The form kept under ``token_hash``, deleted in the same transaction (one use)."""
    with store.begin() as conn:
        row = conn.execute(select(kept_forms).where(kept_forms.c.token_hash == token_hash)).first()
        if row is None:
            return None
        conn.execute(delete(kept_forms).where(kept_forms.c.token_hash == token_hash))
    fields = row.fields if isinstance(row.fields, dict) else {}
    return KeptForm(
        token_hash=row.token_hash,
        account=row.account,
        endpoint=row.endpoint,
        page=row.page,
        fields={str(k): str(v) for k, v in fields.items()},
        created_at=row.created_at,
    )
