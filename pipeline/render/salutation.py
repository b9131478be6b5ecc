"""The salutation line of one recipient, per list style (formal | informal) and language.

    formal   de  Sehr geehrte Frau Dr. Schulz / Sehr geehrter Herr Weber / Guten Tag Kim Meyer
             en  Dear Ms Schulz / Dear Dr. Schulz / Dear Prof. Dr. Çelik / Dear Mr Weber
    informal de  Liebe Anna / Lieber Jonas / Hallo Kim
             en  Dear Anna / Dear Jonas / Hello Kim

Without the name a form needs, the line falls back to a neutral one ("Guten Tag",
"Sehr geehrte Damen und Herren") rather than printing "Liebe ," to a real person. The
templates add the comma.
"""

from __future__ import annotations

from typing import Literal

from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.models import Recipient

Style = Literal["formal", "informal"]


def _clean(value: str) -> str:
    # Names come from CSV imports and sign-up forms: collapse whitespace, keep one line.
    return " ".join(value.split())


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def salutation(
    *,
    style: Style,
    language: str,
    gender: str = "",
    first_name: str = "",
    last_name: str = "",
    title: str = "",
) -> str:
    """The salutation without the trailing comma (pure; ``salutation_for`` picks the style)."""
    first, last, title = _clean(first_name), _clean(last_name), _clean(title)
    gender = _clean(gender).lower()
    english = language == "en"
    if style == "formal":
        if gender in ("frau", "herr") and last:
            if english:
                # A title is kept as written ("Prof. Dr."): dropping dots would leave
                # "Prof. Dr" or "Prof Dr", neither of which the person signs with.
                honorific = title or ("Ms" if gender == "frau" else "Mr")
                return _join("Dear", honorific, last)
            word = "Sehr geehrte Frau" if gender == "frau" else "Sehr geehrter Herr"
            return _join(word, title, last)
        if first or last:
            return _join("Dear" if english else "Guten Tag", title, first, last)
        return "Dear Sir or Madam" if english else "Sehr geehrte Damen und Herren"
    if not first:
        return "Hello" if english else "Hallo"
    if english:
        return _join("Dear" if gender in ("frau", "herr") else "Hello", first)
    word = {"frau": "Liebe", "herr": "Lieber"}.get(gender, "Hallo")
    return _join(word, first)


def salutation_for(settings: Settings, recipient: Recipient, *, language: str = "") -> str:
    """The salutation of ``recipient`` in the style of its list, in ``language`` (the
    language of the version the recipient gets), else in the recipient's own."""
    try:
        style: Style = settings.list_named(recipient.list_name).salutation
    except ConfigError:
        style = "formal"  # an unknown list: the polite form is never wrong
    language = language or recipient.language
    language = language if language in ("de", "en") else "de"
    return salutation(
        style=style,
        language=language,
        gender=recipient.salutation,
        first_name=recipient.first_name,
        last_name=recipient.last_name,
        title=recipient.title,
    )
