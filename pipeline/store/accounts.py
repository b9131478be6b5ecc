"""Queries of the accounts, their API tokens and the log-in throttle: persistence only.

What a role may do, whether a password or a token is right and how long a client
waits are decided in ``pipeline.accounts``; here rows are written, read and counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from pipeline.store import Store
from pipeline.store.schema import accounts, api_tokens, login_failures, web_sessions


@dataclass(frozen=True)
class AccountRow:
    id: int
    email: str
    name: str
    role: str
    active: bool
    password_hash: str
    totp_secret: str | None
    created_at: datetime
    last_login_at: datetime | None
    password_changed_at: datetime | None
    ui_language: str | None = None


@dataclass(frozen=True)
class TokenRow:
    id: int
    token_hash: str
    name: str
    account_id: int
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class Failures:
    """The failed log-ins counted under one throttle key."""

    key: str
    failures: int
    last_failure_at: datetime
    blocked_until: datetime


def email_key(email: str) -> str:
    """The unique key of an address: case-folded, so one person has one account."""
    return email.strip().casefold()


def _account(row: Any) -> AccountRow:
    return AccountRow(
        id=int(row.id),
        email=row.email,
        name=row.name or "",
        role=row.role,
        active=bool(row.active),
        password_hash=row.password_hash,
        totp_secret=row.totp_secret or None,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
        password_changed_at=row.password_changed_at,
        ui_language=row.ui_language or None,
    )


def _token(row: Any) -> TokenRow:
    return TokenRow(
        id=int(row.id),
        token_hash=row.token_hash,
        name=row.name or "",
        account_id=int(row.account_id),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


# --- accounts ----------------------------------------------------------------------------


def create_account(
    store: Store, *, email: str, name: str, role: str, password_hash: str, at: datetime
) -> AccountRow | None:
    """Insert an account; None when the address (case-folded) has one already."""
    try:
        with store.begin() as conn:
            new_id = conn.execute(
                insert(accounts)
                .values(
                    email=email.strip(),
                    email_key=email_key(email),
                    name=name,
                    role=role,
                    active=True,
                    password_hash=password_hash,
                    totp_secret=None,
                    created_at=at,
                    password_changed_at=at,
                )
                .returning(accounts.c.id)
            ).scalar_one()
    except IntegrityError:
        return None
    return get_account(store, int(new_id))


def get_account(store: Store, account_id: int) -> AccountRow | None:
    with store.connect() as conn:
        row = conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
    return _account(row) if row is not None else None


def find_account(store: Store, email: str) -> AccountRow | None:
    with store.connect() as conn:
        row = conn.execute(select(accounts).where(accounts.c.email_key == email_key(email))).first()
    return _account(row) if row is not None else None


def list_accounts(store: Store) -> list[AccountRow]:
    with store.connect() as conn:
        rows = conn.execute(select(accounts).order_by(accounts.c.email_key)).all()
    return [_account(r) for r in rows]


def count_accounts(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(accounts)).scalar_one())


def update_account(store: Store, account_id: int, **values: Any) -> None:
    """Set columns of one account (``role``, ``active``, ``name``, ``password_hash``,
    ``password_changed_at``, ``totp_secret``, ``last_login_at``)."""
    with store.begin() as conn:
        conn.execute(update(accounts).where(accounts.c.id == account_id).values(**values))


def use_totp_step(store: Store, account_id: int, step: int) -> bool:
    """Record that the code of ``step`` was used; False when it (or a later one) was
    used already. One conditional update: of two log-ins with the same code, one wins."""
    with store.begin() as conn:
        done = conn.execute(
            update(accounts)
            .where(
                accounts.c.id == account_id,
                (accounts.c.totp_last_step.is_(None)) | (accounts.c.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
    return bool(done.rowcount == 1)


def count_active_admins(store: Store) -> int:
    with store.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(accounts)
                .where(accounts.c.role == "admin", accounts.c.active.is_(True))
            ).scalar_one()
        )


# --- sessions of an account ------------------------------------------------------------------


def end_sessions_of(store: Store, account_id: int, at: datetime, reason: str) -> int:
    """End every live session of an account (password change, disable); the number."""
    with store.begin() as conn:
        result = conn.execute(
            update(web_sessions)
            .where(web_sessions.c.account_id == account_id, web_sessions.c.ended_at.is_(None))
            .values(ended_at=at, end_reason=reason[:32])
        )
    return int(result.rowcount or 0)


# --- API tokens ------------------------------------------------------------------------


def create_token(
    store: Store,
    *,
    token_hash: str,
    name: str,
    account_id: int,
    at: datetime,
    expires_at: datetime | None,
) -> TokenRow:
    with store.begin() as conn:
        new_id = conn.execute(
            insert(api_tokens)
            .values(
                token_hash=token_hash,
                name=name,
                account_id=account_id,
                created_at=at,
                expires_at=expires_at,
            )
            .returning(api_tokens.c.id)
        ).scalar_one()
        row = conn.execute(select(api_tokens).where(api_tokens.c.id == new_id)).one()
    return _token(row)


def find_token(store: Store, token_hash: str) -> TokenRow | None:
    with store.connect() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.token_hash == token_hash)).first()
    return _token(row) if row is not None else None


def get_token(store: Store, token_id: int) -> TokenRow | None:
    with store.connect() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    return _token(row) if row is not None else None


def tokens_of(store: Store, account_id: int) -> list[TokenRow]:
    with store.connect() as conn:
        rows = conn.execute(
            select(api_tokens)
            .where(api_tokens.c.account_id == account_id)
            .order_by(api_tokens.c.id)
        ).all()
    return [_token(r) for r in rows]


def revoke_token(store: Store, token_id: int, at: datetime) -> bool:
    """Mark a token revoked (once); whether it was live until now."""
    with store.begin() as conn:
        result = conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
    return bool(result.rowcount)


def token_used(store: Store, token_id: int, at: datetime) -> None:
    with store.begin() as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=at))


# --- log-in throttle -------------------------------------------------------------------------


def failures(store: Store, keys: list[str]) -> list[Failures]:
    with store.connect() as conn:
        rows = conn.execute(select(login_failures).where(login_failures.c.key.in_(keys))).all()
    return [Failures(r.key, int(r.failures), r.last_failure_at, r.blocked_until) for r in rows]


def record_failure(
    store: Store, keys: list[str], bump: Callable[[Failures | None, str], Failures]
) -> list[Failures]:
    """Count one more failure under each key: ``bump(old or None, key)`` gives the new
    row. Read and written in one transaction (rows locked on PostgreSQL), so two web
    workers counting at once lose no failure."""
    with store.begin() as conn:
        found = {
            r.key: Failures(r.key, int(r.failures), r.last_failure_at, r.blocked_until)
            for r in conn.execute(
                select(login_failures).where(login_failures.c.key.in_(keys)).with_for_update()
            ).all()
        }
        written = []
        for key in keys:
            new = bump(found.get(key), key)
            values = {
                "failures": new.failures,
                "last_failure_at": new.last_failure_at,
                "blocked_until": new.blocked_until,
            }
            if key in found:
                conn.execute(
                    update(login_failures).where(login_failures.c.key == key).values(**values)
                )
            else:
                conn.execute(insert(login_failures).values(key=key, **values))
            written.append(new)
    return written


def clear_failures(store: Store, keys: list[str]) -> None:
    with store.begin() as conn:
        conn.execute(delete(login_failures).where(login_failures.c.key.in_(keys)))


def purge_failures(store: Store, before: datetime) -> int:
    with store.begin() as conn:
        result = conn.execute(
            delete(login_failures).where(login_failures.c.last_failure_at < before)
        )
    return int(result.rowcount or 0)
