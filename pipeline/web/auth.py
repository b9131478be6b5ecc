"""Editor login: one account whose name and password live in environment variables.

``[web] editor_user_env`` and ``editor_password_env`` name the variables (read once at
start with the other secrets, ``Settings.secrets``: a changed password takes effect at
the restart, and ends every session opened with the old one). The password is compared
in constant time. A login opens a server-side session (``pipeline.web.sessions``): the
signed cookie only names it, and it ends at logout, after ``SESSION_HOURS``, or when the
password variable changes. Failed logins are throttled per client address (5) and per
user name (20) within ``WINDOW`` (``LoginThrottle``): past a limit the form answers 429
until the window has passed, which makes guessing a password impractical.

Other areas protect a blueprint with ``require_login(blueprint)``; the logged-in name
is ``current_editor()``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections import deque
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from pipeline.access import Actor, Role
from pipeline.web import csrf, sessions
from pipeline.web.context import deps

log = logging.getLogger(__name__)

# Per client address, and (higher, so a stranger cannot lock the editor out as easily)
# per user name from all addresses together.
MAX_FAILURES = {"ip": 5, "user": 20}
WINDOW = timedelta(minutes=15)

bp = Blueprint("auth", __name__, url_prefix="/editor")


class LoginThrottle:
    """Failed logins per key (client address, user name) within a sliding window."""

    def __init__(
        self, max_failures: dict[str, int] | None = None, window: timedelta = WINDOW
    ) -> None:
        self.max_failures = max_failures or MAX_FAILURES
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def retry_after(self, keys: list[str], now: datetime) -> int:
        """Seconds until one more try is allowed for all ``keys`` (0: allowed now)."""
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._prune(key, now)
                limit = self.max_failures.get(key.partition(":")[0], 5)
                if len(times) >= limit:
                    wait = max(wait, (times[0] + self.window - now).total_seconds())
        return max(0, int(wait) + (1 if wait > int(wait) else 0))

    def failed(self, keys: list[str], now: datetime) -> None:
        with self._lock:
            for key in keys:
                self._prune(key, now).append(now)

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _prune(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] + self.window <= now:
            times.popleft()
        return times


def _throttle() -> LoginThrottle:
    from flask import current_app

    throttle = current_app.extensions.get("rundbrief.login_throttle")
    assert isinstance(throttle, LoginThrottle)
    return throttle


def credentials_configured() -> bool:
    """Whether login can work: a signing secret and both credential variables are set."""
    secrets = deps().settings.secrets
    return bool(
        deps().has_secret
        and secrets.get("web.editor_user_env")
        and secrets.get("web.editor_password_env")
    )


def check_credentials(user: str, password: str) -> bool:
    """Compare with the configured account in constant time (no early exit on the name)."""
    want_user, want_password = _account()
    if not (want_user and want_password):
        return False
    # Digests have equal length, so compare_digest leaks nothing about the lengths either.
    user_ok = hmac.compare_digest(_digest(user), _digest(want_user))
    password_ok = hmac.compare_digest(_digest(password), _digest(want_password))
    return user_ok & password_ok


def _account() -> tuple[str, str]:
    secrets = deps().settings.secrets
    return secrets.get("web.editor_user_env"), secrets.get("web.editor_password_env")


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


def _password_fingerprint(account: str) -> str | None:
    """The fingerprint sessions of ``account`` must carry (None: no such account now)."""
    want_user, want_password = _account()
    if not (want_user and want_password and deps().has_secret) or account != want_user:
        return None
    return sessions.fingerprint(want_password)


def current_editor() -> str | None:
    """The logged-in editor's name, or None (logged out, expired, or password changed)."""
    found = sessions.current(_password_fingerprint)
    return found.account if found is not None else None


def current_actor() -> Actor:
    """Who acts in this request: the logged-in editor, through the web, from the client's
    address. The one place the web app builds its actor: until accounts exist the one
    editor account may do everything (the accounts give it its real role)."""
    return Actor(
        email=current_editor() or "editor",
        role=Role.ADMIN,
        channel="web",
        address=request.remote_addr or "",
    )


def _login_guard() -> Response | None:
    if current_editor() is not None:
        return None
    if request.method in csrf.SAFE_METHODS:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    abort(401, description="Bitte melden Sie sich an, bevor Sie etwas ändern.")


def require_login(blueprint: Blueprint) -> None:
    """Every request to ``blueprint`` needs a logged-in editor (pages redirect to login)."""
    blueprint.before_request(_login_guard)


def _safe_next(target: str | None) -> str:
    # Only our own editor pages: no scheme, no host, no protocol-relative "//evil".
    fallback = url_for("editor.index") if "editor.index" in _endpoints() else "/editor/"
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/editor") or "\\" in target:
        return fallback
    return target


def _endpoints() -> set[str]:
    from flask import current_app

    return {rule.endpoint for rule in current_app.url_map.iter_rules()}


def _client_keys(user: str) -> list[str]:
    return [f"ip:{request.remote_addr or '-'}", f"user:{user.casefold()}"]


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int, dict[str, str]]:
    configured = credentials_configured()
    next_url = request.values.get("next", "")
    if request.method == "GET":
        if current_editor() is not None:
            return redirect(_safe_next(next_url))
        return render_template("auth/login.html", configured=configured, next=next_url)
    csrf.check()
    if not configured:
        log.error(
            "editor login refused: not configured",
            extra={
                "secret_env": deps().settings.web.secret_env,
                "user_env": deps().settings.web.editor_user_env,
                "password_env": deps().settings.web.editor_password_env,
            },
        )
        return render_template("auth/login.html", configured=False, next=next_url), 503, {}
    user = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    now = deps().clock.now()
    keys = _client_keys(user)
    wait = _throttle().retry_after(keys, now)
    if wait:
        log.warning("editor login throttled", extra={"ip": request.remote_addr, "user": user})
        minutes = max(1, (wait + 59) // 60)
        error = f"Zu viele Fehlversuche. Bitte versuchen Sie es in {minutes} Minuten noch einmal."
        page = render_template(
            "auth/login.html", configured=True, next=next_url, error=error, username=user
        )
        return page, 429, {"Retry-After": str(wait)}
    if not check_credentials(user, password):
        _throttle().failed(keys, now)
        log.warning("editor login failed", extra={"ip": request.remote_addr, "user": user})
        error = "Benutzername oder Passwort ist falsch."
        page = render_template(
            "auth/login.html", configured=True, next=next_url, error=error, username=user
        )
        return page, 401, {}
    _throttle().succeeded(keys)
    # A fresh session: nothing an attacker planted before login survives it, and a
    # session this browser had before ends on the server too.
    sessions.end("replaced")
    session.clear()
    session.permanent = True
    fingerprint = _password_fingerprint(user)
    assert fingerprint is not None  # the credentials were just checked against it
    sessions.start(user, fingerprint)
    csrf.rotate()
    log.info("editor logged in", extra={"ip": request.remote_addr, "user": user})
    return redirect(_safe_next(next_url), code=303)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    csrf.check()
    # Ended on the server: a copy of the cookie is worthless from now on.
    ended = sessions.end("logout")
    session.clear()
    if ended is not None:
        log.info("editor logged out", extra={"user": ended.account})
    flash("Sie sind abgemeldet.", "info")
    return redirect(url_for("auth.login"), code=303)


def register(app: Flask) -> None:
    app.extensions["rundbrief.login_throttle"] = LoginThrottle()
    app.register_blueprint(bp)

    @app.context_processor
    def _editor_in_templates() -> dict[str, object]:
        return {"current_editor": current_editor}
