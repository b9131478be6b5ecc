"""Stored renders: one row per mailing and language, the bytes every copy is made from.

A render can only be written while its mailing is a draft; from approval on it is
frozen (``mailings.edit_mailing`` and the return to draft delete it).
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import delete, insert, select

from pipeline.clock import Clock
from pipeline.errors import ComposeError
from pipeline.models import MailingStatus
from pipeline.store import Store
from pipeline.store.mailings import status_in
from pipeline.store.schema import renders


def content_hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def save_render(
    store: Store,
    mailing_id: int,
    language: str,
    *,
    subject: str,
    preheader: str,
    html: str,
    text: str,
    clock: Clock,
) -> None:
    """Store (or replace) the render of one language of a mailing."""
    row = {
        "subject": subject,
        "preheader": preheader,
        "html": html,
        "text": text,
        "content_hash": content_hash(subject, preheader, html, text),
        "rendered_at": clock.now(),
    }
    with store.begin() as conn:
        status = status_in(conn, mailing_id)
        if status != MailingStatus.DRAFT:
            # An approved render is frozen: the bytes editors saw are the bytes sent.
            raise ComposeError(f"mailing {mailing_id} is {status}; its render is frozen")
        conn.execute(
            delete(renders)
            .where(renders.c.mailing_id == mailing_id)
            .where(renders.c.language == language)
        )
        conn.execute(insert(renders).values(mailing_id=mailing_id, language=language, **row))


def load_render(store: Store, mailing_id: int, language: str) -> dict[str, Any] | None:
    """The stored render of one language as a mapping, or None."""
    with store.connect() as conn:
        row = conn.execute(
            select(renders)
            .where(renders.c.mailing_id == mailing_id)
            .where(renders.c.language == language)
        ).first()
    return None if row is None else dict(row._mapping)
