"""The subject of a mailing in each of its languages.

A newsletter's subject comes from a pattern per language: ``compose.subject_patterns``
for that language, else ``compose.subject_pattern`` for the organisation's language,
else the locale's ``mail.subject_pattern``. The mailing stores one subject (its first
language's, which editors may change). Another language gets its own pattern's subject
only while the stored one is still what the pattern made; a subject an editor wrote (or
a press release's title) goes out as written in every language.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pipeline.config import Settings, unknown_subject_placeholder
from pipeline.errors import ConfigError
from pipeline.models import Item, Mailing, MailingKind
from pipeline.render.engine import override_dirs
from pipeline.render.locale import load_strings, medium_date


def subject_pattern(settings: Settings, language: str) -> tuple[str, str]:
    """(pattern, the key it came from) of the newsletter subject in ``language``."""
    compose = settings.compose
    own = compose.subject_patterns.get(language)  # type: ignore[call-overload]
    if own:
        return own, f"compose.subject_patterns.{language}"
    if language == settings.organisation.language and compose.subject_pattern:
        return compose.subject_pattern, "compose.subject_pattern"
    strings = load_strings(language, template_dirs=override_dirs(settings))
    return strings.get("mail.subject_pattern"), f"{strings.source}: mail.subject_pattern"


def newsletter_subject(
    settings: Settings, items: Sequence[Item], now: datetime, *, language: str
) -> str:
    """The newsletter subject in ``language``; a bad pattern is a ``ConfigError``."""
    pattern, key = subject_pattern(settings, language)
    where = key if ":" in key else f"{settings.source}: {key}"
    try:
        problem = unknown_subject_placeholder(pattern)
    except ValueError as exc:  # a lone brace: reported with the key below
        problem = str(exc)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    local = now.astimezone(settings.organisation.tz)
    year, week, _ = local.isocalendar()
    try:
        subject = pattern.format(
            organisation=settings.organisation.name,
            week=week,
            year=year,
            date=medium_date(local, language),
            lead_title=items[0].title.strip() if items else "",
        )
    except (ValueError, IndexError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return " ".join(subject.split())


def subject_in(
    settings: Settings,
    mailing: Mailing,
    items: Sequence[Item],
    *,
    language: str,
    languages: Sequence[str],
) -> str:
    """The subject of ``mailing`` in ``language`` (``languages``: all of the mailing's)."""
    first = languages[0] if languages else language
    if language == first or mailing.kind != MailingKind.NEWSLETTER:
        return mailing.subject
    made = newsletter_subject(settings, items, mailing.created_at, language=first)
    if mailing.subject != made:
        return mailing.subject  # written by an editor: theirs in every language
    return newsletter_subject(settings, items, mailing.created_at, language=language)
