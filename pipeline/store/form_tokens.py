"""Queries of the used one-time form tokens (``used_form_tokens``): persistence only.

Which forms carry a token and what a second use answers is decided in
``pipeline.web.once``; here a use is recorded, atomically.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from pipeline.store import Store
from pipeline.store.schema import used_form_tokens


def use_token(
    store: Store, token_hash: str, endpoint: str, at: datetime, *, purge_before: datetime
) -> bool:
    """Record the use of ``token_hash``; False when it was used before (by anyone)."""
    try:
        with store.begin() as conn:
            conn.execute(delete(used_form_tokens).where(used_form_tokens.c.used_at < purge_before))
            conn.execute(
                insert(used_form_tokens).values(
                    token_hash=token_hash, endpoint=endpoint, used_at=at
                )
            )
    except IntegrityError:
        return False
    return True
