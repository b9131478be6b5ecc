"""The rendered newsletter: structure, German dates, credits, footer, links, checks."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings.compose import compose_newsletter
from pipeline.render import PREFS_URL, SALUTATION, UNSUB_URL, RenderedMailing
from pipeline.store import Store
from tests.support import mailings as mailing_ops
from tests.support.mail_items import add_item, add_items
from tests.support.mailings import render_mailing


@pytest.fixture
def rendered(settings: Settings, store: Store, clock: FakeClock) -> RenderedMailing:
    add_items(store, clock.now(), 6, kinds=("article", "event_report", "press_release"))
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    mailing_ops.edit_mailing(
        store,
        mailing.id,
        clock=clock,
        intro_md="Liebe Mitglieder, hier sind die **Neuigkeiten** der Woche.",
    )
    return render_mailing(settings, store, mailing.id, clock=clock)[0]


def test_html_document_basics(rendered: RenderedMailing) -> None:
    html = rendered.html
    assert html.lower().startswith("<!doctype html>")
    assert '<html lang="de"' in html
    assert f"<title>{rendered.subject}</title>" in html
    assert 'role="presentation"' in html
    # the preheader sits in the hidden block right after <body>
    body = html[html.index("<body") :]
    assert rendered.preheader[:40] in body[:2000]
    # no remote fonts or stylesheets, media queries kept through inlining
    assert "fonts.googleapis" not in html and "<link" not in html
    assert "@media only screen and (min-width:480px)" in html
    assert "font-family:-apple-system" in html.replace(", ", ",")
    # dark mode: declared, and styled (with !important, since colours are inlined)
    assert '<meta name="color-scheme" content="light dark">' in html
    assert "@media (prefers-color-scheme: dark)" in html


def test_sections_in_german_with_dates_credits_and_buttons(rendered: RenderedMailing) -> None:
    html = rendered.html
    positions = [html.index(t) for t in ("Artikel", "Veranstaltungsberichte", "Pressemitteilungen")]
    assert positions == sorted(positions)
    assert "Freitag, 19. Juni 2026" in html
    assert "Donnerstag, 18. Juni 2026" in html
    # the seed summaries end in the credit already: it is not captioned a second time
    assert "©NJB/Sebastian Bolesch" in html and "Foto: ©NJB/Sebastian Bolesch" not in html
    assert len(re.findall(r">\s*Weiterlesen\s*<", html)) == 6
    assert 'alt="Junge Bürgermeister*innen beim Netzwerktreffen in Berlin"' in html
    assert "Auf dem Weg zur „Kommune 2030“" in html
    assert "<strong>Neuigkeiten</strong>" in html


def test_footer_has_everything_the_law_and_the_reader_need(
    rendered: RenderedMailing, settings: Settings
) -> None:
    html = rendered.html
    footer = html[html.rindex("Netzwerk Junge Bürgermeister*innen") :]
    assert "Marienstraße 6, 10117 Berlin" in footer
    assert 'href="https://www.junge-buergermeister.example/impressum"' in footer
    assert "Sie erhalten diese E-Mail als Mitglied des Netzwerks." in footer
    assert f'href="{UNSUB_URL}"' in footer and ">Abmelden<" in footer
    assert f'href="{PREFS_URL}"' in footer and ">Einstellungen ändern<" in footer
    archive = f"{settings.web.base_url}/archive/{rendered.mailing_id}"
    assert f'href="{archive}"' in html
    assert f"{SALUTATION}," in html


def test_text_part_is_readable_with_numbered_links(rendered: RenderedMailing) -> None:
    text = rendered.text
    assert "<" not in text.replace("⟦", "")  # no markup
    assert text.startswith(
        "Netzwerk Junge Bürgermeister*innen\nNewsletter · Freitag, 19. Juni 2026"
    )
    assert f"{SALUTATION},\n\nLiebe Mitglieder, hier sind die Neuigkeiten der Woche." in text
    assert "ARTIKEL\n=======" in text and "VERANSTALTUNGSBERICHTE" in text
    refs = re.findall(r"Weiterlesen \[(\d+)\]", text)
    assert refs == [str(n) for n in range(1, 7)]
    links = text[text.index("Links\n-----") :]
    for n in range(1, 7):
        assert re.search(
            rf"^\[{n}\] https://www\.junge-buergermeister\.example/artikel/", links, re.M
        )
    assert f"Abmelden: {UNSUB_URL}" in text
    assert f"Einstellungen ändern: {PREFS_URL}" in text
    assert "Impressum: https://www.junge-buergermeister.example/impressum" in text
    for line in text.splitlines():
        assert len(line) <= 72 or "http" in line or "⟦" in line, line
    assert "\n\n\n" not in text


def test_rendering_again_gives_the_same_bytes(
    settings: Settings, store: Store, clock: FakeClock, rendered: RenderedMailing
) -> None:
    assert rendered.mailing_id is not None
    again = render_mailing(settings, store, rendered.mailing_id, clock=clock)[0]
    assert again == rendered


def test_english_rendering(settings_factory: object, clock: FakeClock) -> None:
    settings = settings_factory(compose={"languages": ["de", "en"]})  # type: ignore[operator]
    store = Store.open(settings.database_url())
    add_item(
        store,
        title="Sommerfest",
        kind="event_report",
        published_at=clock.now() - timedelta(hours=1),
    )
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None and mailing.languages == ("de", "en")
    de, en = render_mailing(settings, store, mailing.id, clock=clock)
    assert '<html lang="de"' in de.html and "Veranstaltungsberichte" in de.html
    assert '<html lang="en"' in en.html and "Event reports" in en.html
    assert "Friday, June 19, 2026" in en.html and "Unsubscribe" in en.text
    assert "Read more [1]" in en.text
    store.close()


def test_logo_in_the_header_and_sections_follow_the_editors_order(
    settings_factory: object, clock: FakeClock
) -> None:
    logo = "https://www.junge-buergermeister.example/logo.png"
    settings = settings_factory(organisation={"logo_url": logo})  # type: ignore[operator]
    store = Store.open(settings.database_url())
    add_items(store, clock.now(), 4, kinds=("article", "event_report"))
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    # move an event report to the top: its section comes first
    mailing_ops.move_item(store, mailing.id, mailing.item_ids[2], 1, clock=clock)
    html = render_mailing(settings, store, mailing.id, clock=clock)[0].html
    assert f'src="{logo}"' in html
    assert 'alt="Logo: Netzwerk Junge Bürgermeister*innen"' in html
    assert html.index("Veranstaltungsberichte") < html.index(">Artikel<")
    store.close()


def test_an_approved_render_does_not_change_when_items_do(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    from sqlalchemy import update

    from pipeline.store.schema import items

    ids = add_items(store, clock.now(), 2)
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    mailing_ops.approve(store, mailing.id, clock=clock, by="x", settings=settings)
    before = render_mailing(settings, store, mailing.id, clock=clock)[0]
    with store.begin() as conn:
        conn.execute(update(items).where(items.c.id == ids[0]).values(title="Geändert"))
    after = render_mailing(settings, store, mailing.id, clock=clock)[0]
    assert after == before and "Geändert" not in after.html
