"""The one "load the stored render, else render now" of Rundbrief.

A draft is rendered on demand (and stored, so the web preview, a test copy and the
approval see the same bytes); from approval on the stored render is the mailing and is
never rendered again: the bytes an editor approved are the bytes recipients get.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.errors import RenderError
from pipeline.models import Item, Mailing, MailingKind, MailingStatus, RenderedMailing
from pipeline.render import language_for, mailing_languages, render_mailing
from pipeline.store import Store
from pipeline.store import press_files as store_files
from pipeline.store import renders as store_renders
from pipeline.store.items import list_items


def load_items(store: Store, item_ids: Sequence[int]) -> dict[int, Item]:
    """The items of a mailing by id (an item deleted since is simply missing)."""
    return {item.id: item for item in list_items(store, ids=list(item_ids))}


def render_draft(
    settings: Settings, store: Store, mailing: Mailing, *, clock: Clock
) -> list[RenderedMailing]:
    """Render every language of a draft now and store the result."""
    if mailing.status != MailingStatus.DRAFT:
        raise RenderError(f"mailing {mailing.id} is {mailing.status}; its render is frozen")
    kit = store_files.list_files(store, mailing.id) if mailing.kind == MailingKind.PRESS else []
    rendered = render_mailing(
        settings, mailing, load_items(store, mailing.item_ids), now=clock.now(), kit=kit
    )
    store_renders.save_renders(store, mailing.id, rendered, clock=clock)
    return rendered


def renders_of(
    settings: Settings, store: Store, mailing: Mailing, *, clock: Clock, fresh: bool = False
) -> dict[str, RenderedMailing]:
    """The render of every language: the stored one; a draft without one (or with
    ``fresh``) is rendered now. An approved mailing without one is a ``RenderError``."""
    languages = mailing_languages(settings, mailing)
    if mailing.status == MailingStatus.DRAFT and fresh:
        return {r.language: r for r in render_draft(settings, store, mailing, clock=clock)}
    stored = store_renders.load_renders(store, mailing.id, languages)
    if all(r is not None for r in stored.values()):
        return {lang: r for lang, r in stored.items() if r is not None}
    if mailing.status == MailingStatus.DRAFT:
        return {r.language: r for r in render_draft(settings, store, mailing, clock=clock)}
    missing = ", ".join(lang for lang, r in stored.items() if r is None)
    raise RenderError(
        f"mailing {mailing.id} is {mailing.status} but has no stored render ({missing})"
    )


def render_for(renders: dict[str, RenderedMailing], language: str) -> RenderedMailing:
    """The render a recipient of ``language`` gets (``language_for``: theirs, else the
    mailing's first); the same rule the send applies."""
    return renders[language_for(renders, language)]
