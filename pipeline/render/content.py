"""The content model of a mail: what the HTML and the text templates both render.

Built once per mailing and language from the mailing, its items and the settings. All
text here is plain (templates escape it); the only markup is ``*_html``, which has been
through ``clean_html``. Both parts come from this model, so the text part is written for
reading, not scraped back out of the HTML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from html import unescape

from pipeline.config import Settings
from pipeline.errors import ConfigError, RenderError
from pipeline.models import Item, Mailing, MailingKind, PressFile
from pipeline.render import PREFS_URL, SALUTATION, UNSUB_URL
from pipeline.render.followup import FollowUpNote, follow_up_label, follow_up_subject
from pipeline.render.kit import KitEntry, kit_entries
from pipeline.render.locale import Strings, clock_time, long_date, pattern_date, zone_name
from pipeline.render.sanitize import clean_html, markdown_to_html, safe_url
from pipeline.render.subject import subject_in

SECTION_ORDER = ("article", "event_report", "press_release")


@dataclass(frozen=True)
class Card:
    item_id: int
    kind: str
    title: str
    link: str
    date: str
    summary: str
    author: str
    image_url: str
    image_alt: str
    image_credit: str


@dataclass(frozen=True)
class Section:
    kind: str
    title: str
    cards: tuple[Card, ...]


@dataclass(frozen=True)
class Footer:
    organisation: str
    postal_address: str
    website: str
    imprint_url: str
    privacy_url: str
    reason: str
    archive_url: str
    unsubscribe_url: str = UNSUB_URL
    preferences_url: str = PREFS_URL


@dataclass(frozen=True)
class PressRelease:
    card: Card
    body_html: str
    embargo: str
    contact_name: str
    contact_email: str
    contact_phone: str
    kit: tuple[KitEntry, ...] = ()


@dataclass(frozen=True)
class MailContent:
    kind: str
    language: str
    subject: str
    preheader: str
    organisation: str
    website: str
    logo_url: str
    issue_date: str
    greeting: str
    intro_html: str
    sections: tuple[Section, ...]
    footer: Footer
    press: PressRelease | None = None
    cut: bool = False
    # a follow-up of a press release: its kind and the link to the original
    follow_up: FollowUpNote | None = None

    @property
    def card_count(self) -> int:
        return sum(len(s.cards) for s in self.sections)

    def without_last_cards(self, count: int) -> MailContent:
        """The same mail with the last ``count`` cards removed and a "more" link shown."""
        keep = max(0, self.card_count - count)
        sections: list[Section] = []
        for section in self.sections:
            if keep <= 0:
                break
            cards = section.cards[:keep]
            keep -= len(cards)
            sections.append(replace(section, cards=cards))
        return replace(self, sections=tuple(sections), cut=True)


_CREDIT_LABEL = re.compile(r"^(?:foto|fotos|bild|bilder|photo|photos|image|credit)\s*:\s*", re.I)
_TAGS = re.compile(r"<[^>]+>")


def credit_given(credit: str, text: str) -> bool:
    """Whether ``text`` (plain or HTML) names the photo credit already ("Foto: ©NJB"
    at the end of a WordPress summary): then the caption would say it twice."""
    core = " ".join(_CREDIT_LABEL.sub("", credit.strip()).split()).casefold()
    if not core:
        return False
    plain = " ".join(unescape(_TAGS.sub(" ", text)).split()).casefold()
    return core in plain


def _card(item: Item, settings: Settings, language: str) -> Card:
    tz = settings.organisation.tz
    image = safe_url(item.image_url, image=True)
    summary = " ".join(item.summary.split())
    credit = (item.image_credit or "").strip() if image else ""
    return Card(
        item_id=item.id,
        kind=item.kind,
        title=item.title.strip(),
        link=safe_url(item.link),
        date=long_date(item.published_at, language, tz) if item.published_at else "",
        summary=summary,
        author=(item.author or "").strip(),
        image_url=image,
        # An image without a description gets the title: alt text is never missing.
        image_alt=((item.image_alt or "").strip() or item.title.strip()) if image else "",
        # Credited once: by the summary if it names the credit, else by the caption.
        image_credit="" if credit_given(credit, summary) else credit,
    )


def _sections(cards: Sequence[Card], strings: Strings) -> tuple[Section, ...]:
    # Sections appear in the order of their first item, so moving an item to the top
    # moves its section up; within a section the editor's order holds.
    order: list[str] = []
    by_kind: dict[str, list[Card]] = {}
    for card in cards:
        if card.kind not in by_kind:
            order.append(card.kind)
            by_kind[card.kind] = []
        by_kind[card.kind].append(card)
    out = []
    for kind in order:
        key = f"sections.{kind}"
        title = strings.get(key) if key in strings.table else kind.replace("_", " ").title()
        out.append(Section(kind=kind, title=title, cards=tuple(by_kind[kind])))
    return tuple(out)


def footer_reason(settings: Settings, lists: Sequence[str], strings: Strings) -> str:
    """Why the recipient gets this mail, in ``strings``' language: the list's own reason
    in that language, else the locale's line naming the list (never the reason of
    another language)."""
    try:
        configured = [settings.list_named(name) for name in lists]
    except ConfigError as exc:
        raise RenderError(str(exc)) from exc
    language = strings.language
    if len(configured) == 1:
        only = configured[0]
        own = only.reason_in(language, settings.organisation.language)
        return own or strings.get("footer.reason_one", list=only.title_in(language))
    titles = ", ".join(
        strings.get("footer.list_name", list=m.title_in(language)) for m in configured
    )
    return strings.get("footer.reason_many", lists=titles)


def archive_url(
    settings: Settings, mailing_id: int, language: str, languages: Sequence[str]
) -> str:
    """The public page of this version: ``/archive/ID`` for the first language (the
    address older mails carry), ``/archive/ID/LANG`` for the others."""
    url = f"{settings.web.base_url}/archive/{mailing_id}"
    return url if not languages or language == languages[0] else f"{url}/{language}"


def default_preheader(items: Sequence[Item]) -> str:
    """The line inbox lists show after the subject: the first titles, about 120 chars."""
    text = " · ".join(i.title.strip() for i in items[:4])
    return text if len(text) <= 120 else text[:119].rsplit(" ", 1)[0] + " …"


def build_content(
    settings: Settings,
    mailing: Mailing,
    items: Mapping[int, Item],
    *,
    language: str,
    strings: Strings,
    now: datetime,
    languages: Sequence[str] = (),
    kit: Sequence[PressFile] = (),
) -> MailContent:
    """The content model of ``mailing`` in ``language`` (one of its ``languages``)."""
    missing = [iid for iid in mailing.item_ids if iid not in items]
    if missing:
        raise RenderError(f"mailing {mailing.id}: items {missing} no longer exist")
    ordered = [items[iid] for iid in mailing.item_ids]
    if not ordered:
        raise RenderError(f"mailing {mailing.id} has no items")
    org = settings.organisation
    tz = org.tz
    cards = [_card(item, settings, language) for item in ordered]
    footer = Footer(
        organisation=org.name,
        postal_address=org.postal_address,
        website=safe_url(org.website),
        imprint_url=safe_url(org.imprint_url),
        privacy_url=safe_url(org.privacy_url),
        reason=footer_reason(settings, mailing.lists, strings),
        archive_url=archive_url(settings, mailing.id, language, languages),
    )
    press: PressRelease | None = None
    sections: tuple[Section, ...] = ()
    if mailing.kind == MailingKind.PRESS:
        embargo = ""
        if mailing.embargo_at is not None:
            embargo = strings.get(
                "press.embargo",
                date=long_date(mailing.embargo_at, language, tz),
                time=clock_time(mailing.embargo_at, language, tz),
                zone=zone_name(mailing.embargo_at, language, tz),
            )
        item = ordered[0]
        body_html = clean_html(item.content_html) or clean_html(f"<p>{_esc(item.summary)}</p>")
        card = cards[0]
        credit = (item.image_credit or "").strip() if card.image_url else ""
        # The release shows its full text, not the summary: that is what may credit.
        card = replace(card, image_credit="" if credit_given(credit, body_html) else credit)
        press = PressRelease(
            card=card,
            body_html=body_html,
            embargo=embargo,
            contact_name=settings.press.contact_name,
            contact_email=settings.press.contact_email,
            contact_phone=settings.press.contact_phone,
            kit=kit_entries(settings, mailing.id, kit, language),
        )
    else:
        sections = _sections(cards, strings)
    return MailContent(
        kind=str(mailing.kind),
        language=language,
        subject=_subject(settings, mailing, ordered, strings, language, languages),
        preheader=mailing.preheader.strip() or default_preheader(ordered),
        organisation=org.name,
        website=safe_url(org.website),
        logo_url=safe_url(org.logo_url, image=True),
        issue_date=long_date(mailing.send_at or now, language, tz),
        greeting=SALUTATION,
        intro_html=markdown_to_html(mailing.intro_md),
        sections=sections,
        footer=footer,
        press=press,
        follow_up=_follow_up(settings, mailing, strings, language, languages),
    )


def _follow_up(
    settings: Settings,
    mailing: Mailing,
    strings: Strings,
    language: str,
    languages: Sequence[str],
) -> FollowUpNote | None:
    if mailing.follows_id is None or mailing.follow_kind is None:
        return None
    # The original has the same languages: its page in this reader's language.
    return FollowUpNote(
        kind=str(mailing.follow_kind),
        label=follow_up_label(strings, mailing.follow_kind),
        original_url=archive_url(settings, mailing.follows_id, language, languages),
        original_label=strings.get("followup.original"),
    )


def _subject(
    settings: Settings,
    mailing: Mailing,
    items: Sequence[Item],
    strings: Strings,
    language: str,
    languages: Sequence[str],
) -> str:
    """The subject; a press release under embargo says so first ("SPERRFRIST 3.12.2026,
    10:00 Uhr: …"), so a journalist sees it in the inbox before opening the mail."""
    subject = subject_in(settings, mailing, items, language=language, languages=languages)
    if mailing.follow_kind is not None:
        subject = follow_up_subject(strings, mailing.follow_kind, subject)
    if mailing.kind != MailingKind.PRESS or mailing.embargo_at is None:
        return subject
    tz = settings.organisation.tz
    when = mailing.embargo_at
    return strings.get(
        "press.subject_embargo",
        date=pattern_date(when, strings.get("press.subject_date"), language, tz),
        time=clock_time(when, language, tz),
        zone=zone_name(when, language, tz),
        subject=subject,
    )


def _esc(text: str) -> str:
    from html import escape

    return escape(text)
