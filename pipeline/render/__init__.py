"""Render: a mailing → HTML (MJML, CSS inlined) and a plain-text part, once per language.

Public API (pure: inputs in, ``RenderedMailing`` out; this package never reads or writes
the store, the workflow layer ``pipeline.mailings`` does):

- ``render_mailing(settings, mailing, items, now=...)`` renders every language of a
  mailing and checks it (size, alt text, lang, preheader).
- ``personalise(rendered, values)`` fills the per-recipient placeholders by plain
  substitution (HTML-escaped in the HTML part): microseconds, no template engine.
- ``render_confirmation(...)`` renders the double opt-in mail, ``render_welcome(...)``
  the welcome mail of a list (placeholders left in, like a mailing).
- for composing: ``SECTION_ORDER`` and ``default_preheader`` (``content``),
  ``newsletter_subject`` (``subject``: the pattern of a language),
- for follow-ups: ``follow_up_intro`` (the line that says what it is about) and
  ``default_follow_up_text`` (a lift's or a withdrawal's text, naming the original),
- ``strings_for(settings, language)``: the locale strings (the web pages use them too),
  ``medium_date`` (``locale``), ``salutation_for``, ``mailing_languages`` and ``language_for`` (which
  version a recipient gets: the one rule of preview, test copy and send); ``html_size``
  (``checks``: the size the 102 KB clipping limit counts).
- ``BUNDLED_TEMPLATES``: the folder of the templates and locale strings shipped inside
  the package (what a site's ``compose.templates_dir`` overrides).

Placeholders survive MJML and css-inline unchanged, in text and in ``href``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.render.confirmation import render_confirmation
    from pipeline.render.content import SECTION_ORDER, default_preheader
    from pipeline.render.engine import strings_for
    from pipeline.render.followup import default_follow_up_text, follow_up_intro
    from pipeline.render.locale import BUNDLED_TEMPLATES, Strings, medium_date
    from pipeline.render.mailing import render_mailing
    from pipeline.render.subject import newsletter_subject
    from pipeline.render.welcome import render_welcome

from pipeline.models import RenderedMailing

# The per-recipient placeholders; nothing else changes between two recipients.
SALUTATION = "⟦SALUTATION⟧"
FIRST_NAME = "⟦FIRST_NAME⟧"
LAST_NAME = "⟦LAST_NAME⟧"
EMAIL = "⟦EMAIL⟧"
UNSUB_URL = "⟦UNSUB_URL⟧"
PREFS_URL = "⟦PREFS_URL⟧"


@dataclass(frozen=True)
class Personalisation:
    """The values one recipient's copy gets (all plain text; escaping happens on fill)."""

    salutation: str
    first_name: str
    last_name: str
    email: str
    unsubscribe_url: str
    preferences_url: str
    # The tail of each press kit link (``?t=TOKEN``, personal; or nothing), by the
    # file's place in the kit: what the placeholders ``⟦KIT_n⟧`` become.
    kit_links: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonalMail:
    subject: str
    html: str
    text: str


# The implementation lives in the submodules; they import the names above, so these
# imports come last.
from pipeline.render.checks import html_size  # noqa: E402
from pipeline.render.languages import LANGUAGES, language_for, mailing_languages  # noqa: E402
from pipeline.render.personalise import personalise  # noqa: E402
from pipeline.render.salutation import salutation_for  # noqa: E402
from pipeline.render.sanitize import markdown_to_html, safe_url  # noqa: E402

# Rendering needs Jinja2, MJML, css-inline, nh3 and Babel (about 15 MB): loaded on first
# use, so a send of a mailing rendered at approval does without them.
_RENDERING = {
    "render_confirmation": "confirmation",
    "render_mailing": "mailing",
    "render_welcome": "welcome",
    "SECTION_ORDER": "content",
    "default_preheader": "content",
    "medium_date": "locale",
    "BUNDLED_TEMPLATES": "locale",
    "newsletter_subject": "subject",
    "strings_for": "engine",
    "Strings": "locale",
    "default_follow_up_text": "followup",
    "follow_up_intro": "followup",
}


def __getattr__(name: str) -> Any:
    module = _RENDERING.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "BUNDLED_TEMPLATES",
    "EMAIL",
    "FIRST_NAME",
    "LANGUAGES",
    "LAST_NAME",
    "PREFS_URL",
    "SALUTATION",
    "SECTION_ORDER",
    "UNSUB_URL",
    "PersonalMail",
    "Personalisation",
    "RenderedMailing",
    "Strings",
    "default_follow_up_text",
    "default_preheader",
    "follow_up_intro",
    "html_size",
    "language_for",
    "mailing_languages",
    "markdown_to_html",
    "medium_date",
    "newsletter_subject",
    "personalise",
    "render_confirmation",
    "render_mailing",
    "render_welcome",
    "safe_url",
    "salutation_for",
    "strings_for",
]
