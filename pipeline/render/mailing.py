"""Render a mailing once per language and check the result (pure: no store).

    mailing + items ─▶ content model (per language) ─▶ templates ─▶ checks ─▶ RenderedMailing

Storing the result, and deciding when to render again (a draft) or to keep what was
approved, belongs to the workflow layer (``pipeline.mailings.renders``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from pipeline.config import Settings
from pipeline.models import Item, Mailing, MailingKind, PressFile, RenderedMailing
from pipeline.render.checks import check_html, check_size, html_size
from pipeline.render.content import MailContent, build_content
from pipeline.render.engine import Output, override_dirs, render_templates
from pipeline.render.languages import mailing_languages
from pipeline.render.locale import load_strings
from pipeline.render.personalise import SAMPLE_VALUES, personalised_size

log = logging.getLogger(__name__)


def _personal_size(output: Output) -> int:
    # Measured with long sample values: a long unsubscribe URL must not push a mail that
    # passed at render time over the limit at send time.
    return personalised_size(output.html, SAMPLE_VALUES)


def render_content(settings: Settings, content: MailContent, *, name: str) -> Output:
    """Templates → HTML and text for one content model, with the size rule applied."""
    strings = load_strings(content.language, template_dirs=override_dirs(settings))
    base = "press" if content.kind == str(MailingKind.PRESS) else "newsletter"
    limit = settings.compose.max_html_bytes
    output = render_templates(settings, base, strings, {"mail": content})
    size = _personal_size(output)
    if size > limit and settings.compose.on_oversize == "cut" and base == "newsletter":
        total = content.card_count
        for dropped in range(1, total):
            output = render_templates(
                settings, base, strings, {"mail": content.without_last_cards(dropped)}
            )
            size = _personal_size(output)
            if size <= limit:
                log.warning(
                    "render cut mailing=%s language=%s dropped_items=%d size=%d",
                    name, content.language, dropped, size,
                )  # fmt: skip
                break
    if size > limit:
        check_size("x" * size, limit=limit, name=name)
    check_html(output.html, language=content.language, preheader=content.preheader, name=name)
    return output


def render_mailing(
    settings: Settings,
    mailing: Mailing,
    items: Mapping[int, Item],
    *,
    now: datetime,
    kit: Sequence[PressFile] = (),
) -> list[RenderedMailing]:
    """Render every language of ``mailing`` from its ``items`` (by id) and its press kit
    files (``kit``, a press release's) and check it."""
    results = []
    languages = mailing_languages(settings, mailing)
    for language in languages:
        strings = load_strings(language, template_dirs=override_dirs(settings))
        content = build_content(
            settings,
            mailing,
            items,
            language=language,
            strings=strings,
            now=now,
            languages=languages,
            kit=kit,
        )
        name = f"mailing {mailing.id} ({language})"
        output = render_content(settings, content, name=name)
        results.append(
            RenderedMailing(
                mailing_id=mailing.id,
                language=language,
                subject=content.subject,
                preheader=content.preheader,
                html=output.html,
                text=output.text,
            )
        )
        log.info(
            "rendered mailing=%s language=%s html_bytes=%d text_chars=%d",
            mailing.id, language, html_size(output.html), len(output.text),
        )  # fmt: skip
    return results
