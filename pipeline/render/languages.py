"""Which languages a mailing is rendered in, and which of them one recipient gets.

The one rule, used by preview, test copy and send alike: a recipient gets the version in
their own language if the mailing has one, else the mailing's first language. The
greeting is always written in the language of the version sent (``salutation_for`` takes
it from the render), so an English subscriber of a German-only mailing reads "Liebe
Anna," above German text, never "Dear Anna,".
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.config import Settings
from pipeline.models import Mailing

LANGUAGES = ("de", "en")


def mailing_languages(settings: Settings, mailing: Mailing) -> tuple[str, ...]:
    """The languages ``mailing`` is rendered in (its own, else the organisation's)."""
    return mailing.languages or (settings.organisation.language,)


def language_for(available: Iterable[str], wanted: str) -> str:
    """The version a recipient who reads ``wanted`` gets: theirs, else the first one."""
    versions = tuple(available)
    if not versions:
        raise ValueError("a mailing has at least one language")
    return wanted if wanted in versions else versions[0]
