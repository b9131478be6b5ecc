"""Render a stored mailing once per language, check it and store the result.

    get_mailing ─▶ items ─▶ content model (per language) ─▶ templates ─▶ checks ─▶ renders

A draft is rendered afresh every time (items or settings may have changed); from
approval on, the stored render is the mailing: preview, test send and the real send all
read it, so the bytes an editor approved are the bytes recipients get.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.errors import RenderError
from pipeline.models import Item, Mailing, MailingKind, MailingStatus
from pipeline.render import RenderedMailing
from pipeline.render.checks import check_html, check_size, html_size
from pipeline.render.content import MailContent, build_content
from pipeline.render.engine import Output, override_dirs, render_templates
from pipeline.render.locale import load_strings
from pipeline.render.personalise import SAMPLE_VALUES, personalised_size
from pipeline.render.stored import load_rendered as load_rendered  # re-exported
from pipeline.store import Store
from pipeline.store import mailings as store_mailings
from pipeline.store import renders as store_renders

log = logging.getLogger(__name__)


def mailing_languages(settings: Settings, mailing: Mailing) -> tuple[str, ...]:
    return mailing.languages or (settings.organisation.language,)


def load_items(store: Store, item_ids: Sequence[int]) -> dict[int, Item]:
    from pipeline.store.items import list_items

    return {item.id: item for item in list_items(store, ids=list(item_ids))}


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
    settings: Settings, store: Store, mailing_id: int, *, clock: Clock
) -> list[RenderedMailing]:
    """Render (a draft) or load (approved and later) every language of a mailing."""
    mailing = store_mailings.get_mailing(store, mailing_id)
    languages = mailing_languages(settings, mailing)
    if mailing.status != MailingStatus.DRAFT:
        stored = [load_rendered(store, mailing_id, lang) for lang in languages]
        if any(r is None for r in stored):
            raise RenderError(f"mailing {mailing_id} is {mailing.status} but has no stored render")
        return [r for r in stored if r is not None]
    items = load_items(store, mailing.item_ids)
    results = []
    for language in languages:
        strings = load_strings(language, template_dirs=override_dirs(settings))
        content = build_content(
            settings, mailing, items, language=language, strings=strings, now=clock.now()
        )
        name = f"mailing {mailing_id} ({language})"
        output = render_content(settings, content, name=name)
        store_renders.save_render(
            store,
            mailing_id,
            language,
            subject=content.subject,
            preheader=content.preheader,
            html=output.html,
            text=output.text,
            clock=clock,
        )
        results.append(
            RenderedMailing(
                mailing_id=mailing_id,
                language=language,
                subject=content.subject,
                preheader=content.preheader,
                html=output.html,
                text=output.text,
            )
        )
        log.info(
            "rendered mailing=%s language=%s html_bytes=%d text_chars=%d",
            mailing_id, language, html_size(output.html), len(output.text),
        )  # fmt: skip
    return results


def rendered_for(
    settings: Settings, store: Store, mailing_id: int, language: str, *, clock: Clock
) -> RenderedMailing:
    """The render a recipient of ``language`` gets: theirs if the mailing has that
    language, else the mailing's first. A draft is rendered first."""
    rendered = render_mailing(settings, store, mailing_id, clock=clock)
    for candidate in rendered:
        if candidate.language == language:
            return candidate
    return rendered[0]
