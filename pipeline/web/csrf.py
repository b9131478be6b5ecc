"""CSRF protection for the HTML forms of the web app.

One random token per session (``session["csrf"]``), put into every form by the template
helper ``{{ csrf_field() }}`` and checked on every state-changing request of a protected
blueprint: the form field ``csrf_token`` or the header ``X-CSRF-Token`` must equal the
session's token (compared in constant time). A missing or wrong token is refused with
400 before the view runs, so nothing changes.

Use it in an area:

    from pipeline.web import csrf
    csrf.protect(blueprint)            # every POST/PUT/PATCH/DELETE of the blueprint
    csrf.check()                       # or in one view, before it changes anything

Endpoints that are authorised by something else and must accept foreign POSTs (the
RFC 8058 one-click unsubscribe, provider webhooks) simply do not call it.

The session cookie exists only once a form has been shown, so pages without forms and
the one-click answers never set a cookie.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, Flask, abort, request, session
from markupsafe import Markup, escape

from pipeline.web.i18n import t

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token() -> str:
    """The session's CSRF token, created on first use."""
    value = session.get("csrf")
    if not isinstance(value, str) or len(value) < 32:
        value = secrets.token_urlsafe(32)
        session["csrf"] = value
    return value


def rotate() -> str:
    """A fresh token (after login, so a token planted before login is worthless)."""
    session.pop("csrf", None)
    return token()


def field() -> Markup:
    """The hidden form field carrying the token: ``{{ csrf_field() }}`` in a template."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, escape(token()))


def valid() -> bool:
    """Whether this request carries the session's token."""
    expected = session.get("csrf")
    if not isinstance(expected, str) or not expected:
        return False
    sent = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    return hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))


def check() -> None:
    """Refuse (400) a state-changing request without the right token."""
    if request.method not in SAFE_METHODS and not valid():
        abort(400, description=t("errors.csrf"))


def protect(blueprint: Blueprint) -> None:
    """Check the token on every state-changing request of ``blueprint``."""
    blueprint.before_request(check)


def init_app(app: Flask) -> None:
    """Make ``csrf_field()`` and ``csrf_token()`` available in every template."""
    app.jinja_env.globals["csrf_field"] = field
    app.jinja_env.globals["csrf_token"] = token
