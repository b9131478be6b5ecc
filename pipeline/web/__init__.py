"""The web app (Flask): editors' pages, the public archive, sign-up, unsubscribe, webhooks.

``create_app(settings, store, clock=..., transport=...)`` wires one blueprint per area:

    editor    /editor/...        login required, CSRF on every form (compose, preview, approve)
    public    /archive/...       sent newsletters without personal data
    press     /press/<id>/files/<name>                 press kit downloads (Sperrfrist rule)
    audience  /signup /confirm /u/<token> /p/<token>   double opt-in, unsubscribe, preferences
    webhooks  /webhooks/<provider>                    bounce and complaint events
    api       /api/v1/...        JSON, bearer tokens only (no cookie, no CSRF; see api/)

Dependencies are passed in and kept on ``app.extensions["rundbrief"]`` (see ``deps()``);
nothing is global, so tests run several apps side by side.

Every area shares: the session cookie (it names a server-side login session, see
``pipeline.web.sessions``; signed with the secret named by ``[web] secret_env``;
``HttpOnly``, ``SameSite=Lax``, ``Secure`` when ``base_url`` is https), the CSRF helper
(``pipeline.web.csrf``), the page layout ``templates/base.html`` (public pages in the visitor's language, see
``pipeline.web.i18n``; no remote assets;
the stylesheet is served from ``/assets/``) and default security headers: every HTML
answer without its own Content-Security-Policy gets one that allows no script at all.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import Flask, Response, render_template
from werkzeug.exceptions import HTTPException

from pipeline.clock import Clock, SystemClock
from pipeline.config import Settings
from pipeline.deliver import SystemMailWorker
from pipeline.errors import ConfigError, StoreError
from pipeline.store import Store
from pipeline.web import (
    api,
    archive,
    archive_feed,
    audience,
    auth,
    csrf,
    dashboard,
    editor,
    i18n,
    kit_editor,
    once,
    people,
    people_actions,
    press_files,
    record,
    segments,
    send_pages,
    ui_language,
    unsaved,
    webhooks,
)
from pipeline.web.context import SESSION_HOURS, WebDeps, deps

if TYPE_CHECKING:
    from pipeline.deliver import Transport

log = logging.getLogger(__name__)

# Pages only load our own stylesheet and images; mails shown in frames get their own policy.
DEFAULT_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def create_app(
    settings: Settings,
    store: Store,
    *,
    clock: Clock | None = None,
    transport_factory: Callable[[], Transport] | None = None,
    mail_worker: bool = False,
) -> Flask:
    """Build the web app. The signing secret comes from ``[web] secret_env``.

    ``mail_worker``: keep one background thread that sends the system mail a sign-up
    records, at once after the answer (``rundbrief serve`` turns it on). Without it the
    confirmation waits for the daemon's ``mail`` job or ``rundbrief mail drain``.

    Without that variable the app still starts (unsubscribe pages and webhooks check
    their own secrets), but sessions use a throw-away key and editor login is refused;
    ``rundbrief serve`` insists on the secret before it starts.
    """
    app = Flask(
        __name__, template_folder="templates", static_folder="static", static_url_path="/assets"
    )
    has_secret = True
    try:
        app.secret_key = settings.secret(settings.web.secret_env, key="web.secret_env")
    except ConfigError:
        has_secret = False
        app.secret_key = secrets.token_hex(32)
    app.config.update(
        SESSION_COOKIE_NAME="rundbrief_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.web.base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        # Editors' forms are small; anything bigger is an attack or a mistake.
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    worker = None
    if mail_worker:
        worker = SystemMailWorker(store, settings, transport_factory, clock or SystemClock())
    app.extensions["rundbrief"] = WebDeps(
        settings=settings,
        store=store,
        clock=clock or SystemClock(),
        transport_factory=transport_factory,
        has_secret=has_secret,
        mail_worker=worker,
    )
    if settings.web.proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Client addresses (login and sign-up limits, consent evidence) and https come
        # from the proxy: the N-th entry from the right is the one our own proxy added.
        # Without proxy_hops no forwarded header is read (``serve`` even strips them).
        hops = settings.web.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    csrf.init_app(app)
    once.init_app(app)
    i18n.init_app(app)
    app.after_request(_security_headers)
    app.context_processor(
        lambda: {
            "organisation": settings.organisation,
            "has_endpoint": _has_endpoint,
            "nav_section": _nav_section,
        }
    )
    _register_filters(app, settings)
    app.register_error_handler(HTTPException, _error_page)
    app.register_error_handler(StoreError, _store_unavailable)
    for register in _blueprints():
        register(app)
    return app


def _register_filters(app: Flask, settings: Settings) -> None:
    from babel.dates import format_date, format_datetime

    tz = settings.organisation.tz

    def local_time(value: datetime | None) -> str:
        if value is None:
            return ""
        return format_datetime(value.astimezone(tz), "dd.MM.yyyy, HH:mm", locale="de_DE")

    def local_date(value: datetime | None) -> str:
        if value is None:
            return ""
        # "19. Juni 2026" / "June 19, 2026": in the page's language
        return format_date(value.astimezone(tz), format="long", locale=i18n.page_language())

    def iso_local(value: str | None) -> str:
        # the status document's instants are ISO strings in the organisation's zone
        return local_time(datetime.fromisoformat(value)) if value else ""

    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["iso_local"] = iso_local
    app.jinja_env.filters["local_date"] = local_date


def _has_endpoint(name: str) -> bool:
    """Whether a page exists (the navigation links only the areas that are wired)."""
    from flask import current_app

    return name in current_app.view_functions


def _nav_section() -> str:
    """The navigation entry of this page: a view may name it (``g.nav_section``, an
    endpoint, when several entries share its blueprint), else its blueprint."""
    from flask import g, request

    chosen = g.get("nav_section")
    return chosen if isinstance(chosen, str) else (request.blueprint or "")


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
        headers.setdefault("X-Frame-Options", "DENY")
    return response


def _error_page(exc: HTTPException) -> Response | HTTPException:
    # JSON clients (sign-up API, webhooks) keep werkzeug's answer; people get a page.
    if exc.code is None or exc.code < 400:
        return exc
    from flask import request

    if api.is_api_request():
        return api.error_response(exc)
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/webhooks/"):
        return exc
    body = render_template("error.html", code=exc.code, message=_message(exc))
    response = Response(body, status=exc.code, mimetype="text/html")
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


# How long a client should wait before asking again when the store is unavailable.
STORE_RETRY_AFTER_SECONDS = 30


def _store_unavailable(exc: StoreError) -> Response:
    """The database failed (locked, server down): 503 with Retry-After, no traceback."""
    from flask import jsonify, request

    log.error("store unavailable: %s", exc, extra={"path": request.path})
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/webhooks/"):
        # Webhook senders retry on 5xx: the event is not lost.
        response = jsonify(error="store unavailable")
        response.status_code = 503
    else:
        body = render_template("unavailable.html", retry_after=STORE_RETRY_AFTER_SECONDS)
        response = Response(body, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(STORE_RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _message(exc: HTTPException) -> str:
    # A view may abort with its own description (already in the page's language);
    # werkzeug's English defaults (the class attribute) are replaced by the locale's.
    description = exc.description or ""
    if description and description != type(exc).description:
        return description
    key = f"errors.{exc.code}"
    strings = i18n.strings()
    return strings.get(key) if key in strings.table else strings.get("errors.other")


def _blueprints() -> list[Callable[[Flask], None]]:
    """Each area module exposes ``register(app)``."""
    return [
        auth.register,
        dashboard.register,
        kit_editor.register,
        editor.register,
        send_pages.register,
        people.register,
        people_actions.register,
        record.register,
        segments.register,
        archive.register,
        archive_feed.register,
        press_files.register,
        audience.register,
        webhooks.register,
        ui_language.register,
        unsaved.register,
        api.register,
    ]


__all__ = ["WebDeps", "create_app", "deps"]
