"""Editor log-in with named accounts (``pipeline.accounts``): e-mail, password, TOTP code.

The accounts service checks the credentials and throttles failures in the store (per
account and client address, per address, per account: ``pipeline.accounts.throttle``),
so wrong passwords from one address never lock the right one out from another, and
every web worker counts the same. A log-in opens a server-side session
(``pipeline.web.sessions``) naming the account; it ends at logout, after
``SESSION_HOURS``, when the account's password changes and when it is disabled.

Other areas protect a blueprint with ``require_login(blueprint)``. ``current_actor()``
is who acts in this request (the one place the web builds an ``Actor``);
``current_editor()`` is its e-mail address (shown in the page header).
"""

from __future__ import annotations

import logging
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

from pipeline.access import Actor
from pipeline.accounts import Accounts, adopt_legacy
from pipeline.errors import AccountError, LoginRefused, StoreError
from pipeline.web import csrf, i18n, kept_forms, sessions
from pipeline.web.context import deps
from pipeline.web.i18n import ui

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix="/editor")


def accounts() -> Accounts:
    d = deps()
    return Accounts(d.store, d.settings, d.clock)


def credentials_configured() -> bool:
    """Whether log-in can work: a signing secret and at least one account."""
    return bool(deps().has_secret and accounts().count())


def _password_fingerprint(account: str) -> str | None:
    """The fingerprint sessions of ``account`` must carry (None: disabled or gone)."""
    stamp = accounts().session_stamp(account)
    if stamp is None or not deps().has_secret:
        return None
    return sessions.fingerprint(stamp)


_ACTOR = "rundbrief.actor"


def current_actor() -> Actor | None:
    """Who acts in this request: the logged-in account with its role now, or None."""
    cache = request.environ  # per request (see ``sessions.current``)
    if _ACTOR not in cache:
        found = sessions.current(_password_fingerprint)
        actor = None
        if found is not None:
            try:
                actor = accounts().actor_for(
                    found.account, channel="web", address=request.remote_addr or ""
                )
            except AccountError:
                actor = None
        cache[_ACTOR] = actor
    got = cache.get(_ACTOR)
    return got if isinstance(got, Actor) else None


def current_editor() -> str | None:
    """The logged-in account's e-mail address, or None (logged out, ended, disabled)."""
    actor = current_actor()
    return actor.email if actor is not None else None


def acting() -> Actor:
    """Who acts in this request (for the workflow's ``by=``): the logged-in account with
    its role, through the web, from the client's address. Only called behind
    ``require_login``; a session that ended mid-request gets a 401."""
    actor = current_actor()
    if actor is None:
        abort(401, description="Bitte melden Sie sich an, bevor Sie etwas ändern.")
    return actor


def _login_guard() -> Response | None:
    if current_editor() is not None:
        return None
    if request.method in csrf.SAFE_METHODS:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    # A form sent after the session ended: the log-in form, and what was typed kept
    # for after it (``pipeline.web.kept_forms``); nothing is done.
    return kept_forms.login_instead(sessions.ended_account())


def require_login(blueprint: Blueprint) -> None:
    """Every request to ``blueprint`` needs a logged-in editor (pages redirect to login)."""
    blueprint.before_request(_login_guard)


def _safe_next(target: str | None) -> str:
    # Only our own editor pages: no scheme, no host, no protocol-relative "//evil".
    fallback = "/editor/"  # the editors' start page
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/editor") or "\\" in target:
        return fallback
    return target


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
            "editor login refused: no signing secret or no account",
            extra={"secret_env": deps().settings.web.secret_env},
        )
        return render_template("auth/login.html", configured=False, next=next_url), 503, {}
    email = (request.form.get("email") or request.form.get("username") or "").strip()
    password = request.form.get("password", "")
    code = request.form.get("code", "").strip() or None
    address = request.remote_addr or ""

    def again(
        error: str, status: int, totp: bool = False, headers: dict[str, str] | None = None
    ) -> tuple[str, int, dict[str, str]]:
        page = render_template(
            "auth/login.html",
            configured=True,
            next=next_url,
            error=error,
            username=email,
            totp=totp,
        )
        return page, status, headers or {}

    d = deps()
    if d.settings.secrets.get("web.editor_user_env"):
        # the old shared log-in, if the database did not answer when the app started
        adopt_legacy(d.store, d.settings, d.clock)
    try:
        actor = accounts().authenticate(
            email, password, address=address, channel="web", totp_code=code
        )
    except LoginRefused as refused:
        if refused.retry_after:
            log.warning("editor login throttled", extra={"ip": address, "user": email})
            minutes = max(1, (refused.retry_after + 59) // 60)
            return again(
                f"Zu viele Fehlversuche. Bitte versuchen Sie es in {minutes} Minuten noch einmal.",
                429,
                headers={"Retry-After": str(refused.retry_after)},
            )
        if refused.totp_required:
            error = (
                "Bitte geben Sie den Code Ihrer Authenticator-App ein."
                if not code
                else ("Der Code ist falsch.")
            )
            return again(error, 401, totp=True)
        log.warning("editor login failed", extra={"ip": address, "user": email})
        if "second factor" in str(refused):
            return again(
                "Administratoren brauchen einen zweiten Faktor: "
                "rundbrief users totp EMAIL richtet ihn ein.",
                403,
            )
        return again("E-Mail-Adresse oder Passwort ist falsch.", 401)
    # A fresh session: nothing an attacker planted before login survives it, and a
    # session this browser had before ends on the server too. Only the token of a form
    # kept when the old session had ended is handed over (its page checks the account).
    kept = kept_forms.pending()
    sessions.end("replaced")
    session.clear()
    kept_forms.hand_over(kept)
    session.permanent = True
    fingerprint = _password_fingerprint(actor.email)
    assert fingerprint is not None  # the credentials were just checked against it
    sessions.start(actor.email, fingerprint, account_id=actor.account_id)
    request.environ.pop(_ACTOR, None)
    csrf.rotate()
    log.info("editor logged in", extra={"ip": address, "user": actor.email})
    if kept:
        flash(
            ui(
                "Ihre Sitzung war abgelaufen: der letzte Schritt wurde nicht ausgeführt. "
                "Bitte prüfen Sie ihn und wiederholen Sie ihn."
            ),
            "info",
        )
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


@bp.route("/account", methods=["GET", "POST"])
def account() -> Response | str | tuple[str, int]:
    """One's own account: the sessions (each can be ended) and a new password."""
    actor = current_actor()
    if actor is None:
        guard = _login_guard()
        assert guard is not None
        return guard
    service = accounts()
    error = ""
    if request.method == "POST":
        csrf.check()
        try:
            if request.form.get("end"):
                service.end_session(actor, actor.email, request.form["end"])
                flash(ui("Die Sitzung ist beendet."), "info")
            elif "ui_language" in request.form:
                service.set_ui_language(actor, actor.email, request.form["ui_language"])
                i18n.use_ui_language(request.form["ui_language"])  # the message too
                flash(ui("Die Seiten sprechen jetzt Deutsch."), "info")
            else:
                new = request.form.get("new_password", "")
                if new != request.form.get("repeat_password", ""):
                    raise AccountError("Die beiden neuen Passwörter sind verschieden.")
                service.passwd(
                    actor, actor.email, new, current=request.form.get("current_password", "")
                )
                # every session ended, this one too: log in again with the new password
                session.clear()
                flash("Das Passwort ist geändert. Bitte melden Sie sich neu an.", "info")
                return redirect(url_for("auth.login"), code=303)
        except AccountError as exc:
            error = str(exc)
        if not error:
            return redirect(url_for("auth.account"), code=303)
    now = deps().clock.now()
    current = sessions.current(_password_fingerprint)
    page = render_template(
        "auth/account.html",
        actor=actor,
        account=service.get(actor, actor.email),
        sessions=service.sessions(actor, actor.email),
        current_ref=current.id_hash if current else "",
        now=now,
        error=error,
    )
    return (page, 400) if error else page


def register(app: Flask) -> None:
    d = app.extensions["rundbrief"]
    # The shared log-in of old becomes the first admin (once, with a warning). A database
    # that is down must not stop the app (it answers 503 meanwhile): then the first
    # log-in does it.
    try:
        adopt_legacy(d.store, d.settings, d.clock)
    except StoreError as exc:
        log.warning("the shared log-in is adopted at the first log-in: %s", exc)
    app.register_blueprint(bp)

    @app.context_processor
    def _editor_in_templates() -> dict[str, object]:
        return {"current_editor": current_editor, "current_actor": current_actor}
