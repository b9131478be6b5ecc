"""Bearer tokens: who makes this request, and the per-token rate limit.

``Authorization: Bearer rb_…`` is the only credential of the API: no cookie, no session,
so no CSRF either (a foreign page cannot make a browser send the header). The accounts
service checks the token (unknown, revoked, expired, disabled account: 401) and gives
the ``Actor`` with the account's role *now*; the workflow asks that role.
"""

from __future__ import annotations

import hashlib
import math

from flask import g, request

from pipeline.access import Actor
from pipeline.accounts import Accounts
from pipeline.errors import LoginRefused
from pipeline.store.outbox import lock_rate_limit, save_rate_limit
from pipeline.web.api.errors import ApiError
from pipeline.web.api.spec import operation_for
from pipeline.web.context import deps

SCHEME = "bearer"


def accounts() -> Accounts:
    d = deps()
    return Accounts(d.store, d.settings, d.clock)


def actor() -> Actor:
    """The token owner of this request (set by ``authenticate``)."""
    found = g.get("api_actor")
    assert isinstance(found, Actor), "authenticate() runs before every non-public view"
    return found


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != SCHEME or not token.strip():
        raise LoginRefused("an API token is needed: Authorization: Bearer rb_…")
    return token.strip()


def authenticate() -> None:
    """Before every view: check the token (public views need none), then its rate."""
    op = operation_for(request.endpoint)
    if op is None or op.public:
        return
    token = _bearer()
    g.api_actor = accounts().verify_token(token, address=request.remote_addr or "")
    _rate_limit(hashlib.sha256(token.encode("utf-8")).hexdigest()[:32])


def _rate_limit(key: str) -> None:
    """A token bucket per token, kept in the store so every worker counts the same
    requests: ``requests_per_minute`` fit in a burst, refilled evenly over the minute."""
    d = deps()
    per_minute = float(d.settings.api.requests_per_minute)
    rate = per_minute / 60.0  # tokens per second
    now = d.clock.now()
    name = f"api:{key}"
    with d.store.begin() as conn:
        state = lock_rate_limit(conn, name, now=now, tokens=per_minute)
        elapsed = max(0.0, (now - state.updated_at).total_seconds())
        tokens = min(per_minute, state.tokens + elapsed * rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        save_rate_limit(
            conn,
            name,
            tokens=tokens,
            updated_at=now,
            hour_start=state.hour_start or now,
            hour_count=state.hour_count + (1 if allowed else 0),
        )
    if not allowed:
        wait = max(1, math.ceil((1.0 - tokens) / rate))
        raise ApiError(
            429,
            "rate_limited",
            f"more than {int(per_minute)} requests per minute with this token; "
            f"try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
