"""Server-side login sessions: the cookie names a session, the store says whether it counts.

At login ``start`` makes a random session id, keeps it in the signed cookie
(``session["sid"]``, next to the CSRF token) and stores only its SHA-256 with the
account, times, client address, user agent and a fingerprint of the password it was
opened with. ``current`` gives the live session of this request or None. A session is
over when it was ended (logout), when ``SESSION_HOURS`` have passed since login, or
when the account's password is no longer the one it was opened with: so a copied
cookie is worthless after logout or a password change.

The fingerprint is an HMAC of the password under the app's secret: the store never
holds the password or a plain hash of it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from flask import current_app, request, session

from pipeline.store import web_sessions as q
from pipeline.store.web_sessions import WebSession
from pipeline.web.context import SESSION_HOURS, deps

log = logging.getLogger(__name__)

KEY = "sid"
# last_seen_at is written at most this often, not on every request.
TOUCH_EVERY = timedelta(minutes=5)
# Ended and expired rows are kept this long (who was logged in from where), then purged.
KEEP = timedelta(days=30)
_CACHE = "rundbrief_web_session"

# The current fingerprint of an account's password; None when the account is gone.
Fingerprints = Callable[[str], str | None]


def fingerprint(password: str) -> str:
    key = str(current_app.secret_key or "").encode("utf-8")
    return hmac.new(key, b"session-password\0" + password.encode("utf-8"), "sha256").hexdigest()


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def start(account: str, password_fingerprint: str, *, account_id: int | None = None) -> WebSession:
    """Open a session for ``account`` (its e-mail address; ``account_id`` its row) and
    put its id into the (fresh) cookie."""
    now = deps().clock.now()
    session_id = secrets.token_urlsafe(32)
    row = WebSession(
        id_hash=_hash(session_id),
        account=account,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=SESSION_HOURS),
        ended_at=None,
        end_reason=None,
        client_address=request.remote_addr,
        user_agent=request.headers.get("User-Agent", "")[:200],
        password_fingerprint=password_fingerprint,
        account_id=account_id,
    )
    store = deps().store
    q.purge_sessions(store, now - KEEP)
    q.create_session(store, row)
    session[KEY] = session_id
    request.environ.pop(_CACHE, None)
    return row


def current(fingerprints: Fingerprints) -> WebSession | None:
    """The live session of this request (looked up once per request), or None."""
    # Cached in the request's environ, not in ``g``: an app context (and its ``g``) can
    # outlive one request (a test client kept open), a request's environ cannot.
    cache = request.environ
    if _CACHE not in cache:
        cache[_CACHE] = _lookup(fingerprints)
    found = cache.get(_CACHE)
    return found if isinstance(found, WebSession) else None


def _lookup(fingerprints: Fingerprints) -> WebSession | None:
    session_id = session.get(KEY)
    if not isinstance(session_id, str) or not session_id:
        return None
    store = deps().store
    row = q.get_session(store, _hash(session_id))
    now = deps().clock.now()
    if row is None or row.ended_at is not None or now >= row.expires_at:
        return None
    want = fingerprints(row.account)
    if want is None or not hmac.compare_digest(want, row.password_fingerprint):
        # Recorded, so the table shows why the session stopped counting.
        q.end_session(store, row.id_hash, now, "password_changed")
        log.info("editor session ended: password changed", extra={"user": row.account})
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        q.touch_session(store, row.id_hash, now)
    return row


def end(reason: str = "logout") -> WebSession | None:
    """End this request's session on the server (whatever its state); the row, if any."""
    session_id = session.get(KEY)
    request.environ.pop(_CACHE, None)
    if not isinstance(session_id, str) or not session_id:
        return None
    store = deps().store
    id_hash = _hash(session_id)
    q.end_session(store, id_hash, deps().clock.now(), reason)
    return q.get_session(store, id_hash)


def ended_account() -> str | None:
    """The account of the session this cookie names, live or not (None: no such row)."""
    session_id = session.get(KEY)
    if not isinstance(session_id, str) or not session_id:
        return None
    row = q.get_session(deps().store, _hash(session_id))
    return row.account if row is not None else None
