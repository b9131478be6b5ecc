"""The language of a public page, and its strings (the locale files the mails use).

A page speaks, in this order: the language a view chose (``use_language``: the
subscriber's own on the token pages, the mail's on an archive copy), else ``?lang=``,
else the browser's ``Accept-Language``, else the organisation's language. Editors'
pages keep the organisation's language: their texts are not in the locale files.

Templates get ``t(key, **values)`` and ``page_language``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, has_request_context, request

from pipeline.render import LANGUAGES, Strings, strings_for
from pipeline.web.context import deps

# Areas whose pages are for the public (the rest are the editors').
PUBLIC = ("archive", "audience", None)  # None: no area (an unknown address)


def requested_language() -> str:
    """What the visitor asked for (``?lang=``, then Accept-Language), else the
    organisation's language."""
    fallback = deps().settings.organisation.language
    if not has_request_context():
        return fallback
    wanted = request.args.get("lang", "")
    if wanted in LANGUAGES:
        return wanted
    best = request.accept_languages.best_match(LANGUAGES)
    return best or fallback


def use_language(language: str) -> None:
    """Let the rest of this request speak ``language`` (if we have strings for it)."""
    if language in LANGUAGES:
        g.page_language = language


def page_language() -> str:
    chosen = g.get("page_language") if has_request_context() else None
    if isinstance(chosen, str):
        return chosen
    if has_request_context() and request.blueprint in PUBLIC:
        return requested_language()
    return deps().settings.organisation.language


def strings() -> Strings:
    """The strings of the page's language."""
    return strings_for(deps().settings, page_language())


def t(key: str, **values: Any) -> str:
    """The string ``key`` in the page's language."""
    return strings().get(key, **values)


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"t": t, "page_language": page_language()})
