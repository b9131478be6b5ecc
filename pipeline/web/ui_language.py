"""Each editor's pages speak the language chosen on "Mein Konto".

Before an editors' page is drawn, the logged-in account's choice is put in place
(``i18n.use_ui_language``); a logged-out visitor (the login page) gets the default.
Public pages are untouched: they speak the visitor's language (``i18n.page_language``).
"""

from __future__ import annotations

from flask import Flask, request

from pipeline.web import auth, i18n


def _choose() -> None:
    if request.blueprint in (*i18n.PUBLIC, "api", "webhooks") or request.endpoint == "static":
        return
    actor = auth.current_actor()
    if actor is None:
        return
    i18n.use_ui_language(auth.accounts().ui_language_of(actor))


def register(app: Flask) -> None:
    app.before_request(_choose)
