"""The language of a public page, and its strings (the locale files the mails use).

A page speaks, in this order: the language a view chose (``use_language``: the
subscriber's own on the token pages, the mail's on an archive copy), else ``?lang=``,
else the browser's ``Accept-Language``, else the organisation's language. Editors'
pages speak the language the account chose (``pipeline.web.ui_language``), else the
organisation's.

Templates get ``t(key, **values)`` and ``page_language``.

Editors' pages are written in German and speak the editor's language through ``_(text)``
(templates and views alike): the German text is the key, its English is looked up in
``pipeline/web/locale/en/*.toml`` (one file per area, ``"German" = "English"``); a text
without an entry stays German. ``ui_language()`` is the language an editor's page speaks.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context, request

from pipeline.render import LANGUAGES, Strings, strings_for
from pipeline.web.context import deps

# Areas whose pages are for the public (the rest are the editors').
PUBLIC = ("archive", "archive_feed", "audience", None)  # None: no area (an unknown address)


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
    chosen_ui = g.get("ui_language") if has_request_context() else None
    if isinstance(chosen_ui, str):
        return chosen_ui  # an editor's page speaks the editor's language
    return deps().settings.organisation.language


def strings() -> Strings:
    """The strings of the page's language."""
    return strings_for(deps().settings, page_language())


def t(key: str, **values: Any) -> str:
    """The string ``key`` in the page's language."""
    return strings().get(key, **values)


UI_LANGUAGES = ("de", "en")
_CATALOGS = Path(__file__).resolve().parent / "locale"


@cache
def ui_catalog(language: str) -> dict[str, str]:
    """German UI text -> its translation into ``language`` (all of the area files)."""
    merged: dict[str, str] = {}
    folder = _CATALOGS / language
    if folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            with path.open("rb") as fh:
                merged.update(tomllib.load(fh))
    return merged


def ui_language() -> str:
    """The language of an editor's page: the one a view chose, else German."""
    chosen = g.get("ui_language") if has_request_context() else None
    return chosen if isinstance(chosen, str) and chosen in UI_LANGUAGES else "de"


def use_ui_language(language: str) -> None:
    if language in UI_LANGUAGES:
        g.ui_language = language


def ui(text: str, **values: Any) -> str:
    """``text`` (German) in the editor's language, with ``{name}`` fields filled in."""
    language = ui_language()
    translated = text if language == "de" else ui_catalog(language).get(text, text)
    return translated.format(**values) if values else translated


def init_app(app: Flask) -> None:
    app.context_processor(
        lambda: {"t": t, "_": ui, "page_language": page_language(), "ui_language": ui_language()}
    )
