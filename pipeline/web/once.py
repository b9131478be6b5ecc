"""Forms that act do so once: a double click, a reload of the answer or a second tab of
the same page does not approve, send a test copy or compose a follow-up twice.

Such a form carries a one-time token (``{{ once_field() }}``, made fresh each time the
page is shown). Before the view acts it calls ``first()``: the token's use is recorded
in the store (its SHA-256, under a primary key, so of two requests at the same instant
exactly one wins) and a second use answers False: the view then shows ``NOTICE`` and
does nothing. A refused action uses its token too; the page it shows again has a new one.
A form without the token (an old page, a script) is not checked here; the workflow's own
rules (a version, a status) still hold for it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import Flask, request
from markupsafe import Markup, escape

from pipeline.store import form_tokens as q
from pipeline.web.context import deps
from pipeline.web.i18n import ui

FIELD = "once"
# A used token is remembered this long: longer than any page stays open without a reload.
REMEMBER = timedelta(days=2)


def field() -> Markup:
    """The hidden field with a fresh one-time token: ``{{ once_field() }}``."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        FIELD, escape(secrets.token_urlsafe(24))
    )


def first() -> bool:
    """Whether this is the first use of the form's token (no token: True)."""
    sent = request.form.get(FIELD, "")
    if not sent:
        return True
    now = deps().clock.now()
    token_hash = hashlib.sha256(sent.encode("utf-8")).hexdigest()
    return q.use_token(
        deps().store, token_hash, request.endpoint or "", now, purge_before=now - REMEMBER
    )


def notice() -> str:
    """What a second submit of the same form answers."""
    return ui("Dieses Formular war schon abgeschickt: es wurde nichts ein zweites Mal ausgeführt.")


def init_app(app: Flask) -> None:
    app.jinja_env.globals["once_field"] = field
