"""The words of a follow-up (correction, update, lift, withdrawal) of a press release.

Pure, like the rest of ``render``: the subject prefix of each kind, the notice at the top
of the mail and the default texts of a lift and a withdrawal, which name the original and
its times in the organisation's zone. The workflow (``pipeline.mailings``) decides when a
follow-up may be written; this module only says it in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.config import Settings
from pipeline.models import FollowKind, Mailing
from pipeline.render.engine import strings_for
from pipeline.render.locale import Strings, clock_time, medium_date, zone_name


@dataclass(frozen=True)
class FollowUpNote:
    """The notice at the top of a follow-up: its kind and a link to the original."""

    kind: str
    label: str
    original_url: str
    original_label: str


def follow_up_subject(strings: Strings, kind: FollowKind, subject: str) -> str:
    """``Berichtigung: <subject>`` (per locale)."""
    return strings.get(f"followup.subject_{kind}", subject=subject)


def follow_up_label(strings: Strings, kind: FollowKind) -> str:
    return strings.get(f"followup.label_{kind}")


def _sent_date(original: Mailing, language: str, settings: Settings) -> str:
    when = original.sent_at or original.send_at or original.created_at
    return medium_date(when, language, settings.organisation.tz)


def _embargo_words(strings: Strings, when: datetime, settings: Settings) -> str:
    tz, language = settings.organisation.tz, strings.language
    return strings.get(
        "followup.embargo_when",
        date=medium_date(when, language, tz),
        time=clock_time(when, language, tz),
        zone=zone_name(when, language, tz),
    )


def follow_up_intro(
    settings: Settings, original: Mailing, kind: FollowKind, *, language: str
) -> str:
    """The first line of a follow-up's text: what it is and which release it is about
    ("Berichtigung zu unserer Pressemitteilung „…“ vom 3. Dezember 2026.")."""
    strings = strings_for(settings, language)
    return strings.get(
        "followup.about",
        label=follow_up_label(strings, kind),
        title=original.subject,
        date=_sent_date(original, language, settings),
    )


def default_follow_up_text(
    settings: Settings, original: Mailing, kind: FollowKind, *, language: str
) -> str:
    """The text of a lift or a withdrawal when the press officer writes none (Markdown);
    "" for a correction or an update, which only the press officer can write."""
    strings = strings_for(settings, language)
    title = original.subject.replace("*", "\\*").replace("_", "\\_")
    date = _sent_date(original, language, settings)
    if kind == FollowKind.LIFT and original.embargo_at is not None:
        embargo = _embargo_words(strings, original.embargo_at, settings)
        return strings.get("followup.lift_text", title=title, date=date, embargo=embargo)
    if kind == FollowKind.WITHDRAW:
        text = strings.get("followup.withdraw_text", title=title, date=date)
        if original.embargo_at is not None:
            embargo = _embargo_words(strings, original.embargo_at, settings)
            text += " " + strings.get("followup.withdraw_embargo", embargo=embargo)
        return text
    return ""
