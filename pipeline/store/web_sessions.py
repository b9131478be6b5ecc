"""Queries of the web app's sessions (``web_sessions``): persistence only.

Which session still counts (ended, expired, password changed) is decided in
``pipeline.web.sessions``; here rows are written, read and marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update

from pipeline.store import Store
from pipeline.store.schema import web_sessions


@dataclass(frozen=True)
class WebSession:
    id_hash: str
    account: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    client_address: str | None
    user_agent: str | None
    password_fingerprint: str
    account_id: int | None = None


def _session(row: Any) -> WebSession:
    return WebSession(
        id_hash=row.id_hash,
        account=row.account,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        ended_at=row.ended_at,
        end_reason=row.end_reason,
        client_address=row.client_address,
        user_agent=row.user_agent,
        password_fingerprint=row.password_fingerprint,
        account_id=int(row.account_id) if row.account_id is not None else None,
    )


def create_session(store: Store, session: WebSession) -> None:
    with store.begin() as conn:
        conn.execute(
            insert(web_sessions).values(
                id_hash=session.id_hash,
                account=session.account,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
                expires_at=session.expires_at,
                ended_at=session.ended_at,
                end_reason=session.end_reason,
                client_address=(session.client_address or "")[:64] or None,
                user_agent=(session.user_agent or "")[:200] or None,
                password_fingerprint=session.password_fingerprint,
                account_id=session.account_id,
            )
        )


def get_session(store: Store, id_hash: str) -> WebSession | None:
    with store.connect() as conn:
        row = conn.execute(select(web_sessions).where(web_sessions.c.id_hash == id_hash)).first()
    return _session(row) if row is not None else None


def touch_session(store: Store, id_hash: str, at: datetime) -> None:
    with store.begin() as conn:
        conn.execute(
            update(web_sessions).where(web_sessions.c.id_hash == id_hash).values(last_seen_at=at)
        )


def end_session(store: Store, id_hash: str, at: datetime, reason: str) -> None:
    """Mark a session ended (once: a second end keeps the first time and reason)."""
    with store.begin() as conn:
        conn.execute(
            update(web_sessions)
            .where(web_sessions.c.id_hash == id_hash, web_sessions.c.ended_at.is_(None))
            .values(ended_at=at, end_reason=reason[:32])
        )


def sessions_of(store: Store, account: str) -> list[WebSession]:
    """An account's sessions, oldest first."""
    with store.connect() as conn:
        rows = conn.execute(
            select(web_sessions)
            .where(web_sessions.c.account == account)
            .order_by(web_sessions.c.created_at, web_sessions.c.id_hash)
        ).all()
    return [_session(r) for r in rows]


def sessions_of_account(store: Store, account_id: int) -> list[WebSession]:
    """A named account's sessions, newest first (the "your sessions" page)."""
    with store.connect() as conn:
        rows = conn.execute(
            select(web_sessions)
            .where(web_sessions.c.account_id == account_id)
            .order_by(web_sessions.c.created_at.desc(), web_sessions.c.id_hash)
        ).all()
    return [_session(r) for r in rows]


def purge_sessions(store: Store, before: datetime) -> int:
    """Forget sessions that ended or expired before ``before``; the number removed."""
    with store.begin() as conn:
        result = conn.execute(
            delete(web_sessions).where(
                or_(web_sessions.c.expires_at < before, web_sessions.c.ended_at < before)
            )
        )
    return int(result.rowcount or 0)
