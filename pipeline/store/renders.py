"""Stored renders: one row per mailing and language, the bytes every copy is made from.

A render can only be written while its mailing is a draft; from approval on it is
frozen (an edit, or the return to draft, deletes it: ``mailings.update_mailing``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import delete, insert, select

from pipeline.clock import Clock
from pipeline.errors import TransitionError
from pipeline.models import MailingStatus, RenderedMailing
from pipeline.store import Store
from pipeline.store.mailings import status_in
from pipeline.store.schema import renders


def content_hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def save_renders(
    store: Store, mailing_id: int, rendered: Sequence[RenderedMailing], *, clock: Clock
) -> None:
    """Store (or replace) the renders of a draft, in one transaction."""
    now = clock.now()
    with store.begin() as conn:
        status = status_in(conn, mailing_id)
        if status != MailingStatus.DRAFT:
            # An approved render is frozen: the bytes editors saw are the bytes sent.
            raise TransitionError(
                f"mailing {mailing_id} is {status}; its render is frozen",
                mailing_id=mailing_id,
                current=str(status),
            )
        for one in rendered:
            conn.execute(
                delete(renders)
                .where(renders.c.mailing_id == mailing_id)
                .where(renders.c.language == one.language)
            )
            conn.execute(
                insert(renders).values(
                    mailing_id=mailing_id,
                    language=one.language,
                    subject=one.subject,
                    preheader=one.preheader,
                    html=one.html,
                    text=one.text,
                    content_hash=content_hash(one.subject, one.preheader, one.html, one.text),
                    rendered_at=now,
                )
            )


def load_render(store: Store, mailing_id: int, language: str) -> RenderedMailing | None:
    """The stored render of one language, or None."""
    with store.connect() as conn:
        row = conn.execute(
            select(renders)
            .where(renders.c.mailing_id == mailing_id)
            .where(renders.c.language == language)
        ).first()
    if row is None:
        return None
    return RenderedMailing(
        mailing_id=mailing_id,
        language=language,
        subject=row.subject,
        preheader=row.preheader,
        html=row.html,
        text=row.text,
    )


def load_renders(
    store: Store, mailing_id: int, languages: Sequence[str]
) -> dict[str, RenderedMailing | None]:
    """The stored render of each of ``languages`` (None where there is none)."""
    return {language: load_render(store, mailing_id, language) for language in languages}
