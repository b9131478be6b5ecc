"""The press release and the double opt-in mail."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings.compose import compose_press
from pipeline.render import SALUTATION, UNSUB_URL, render_confirmation
from pipeline.render.checks import check_html
from pipeline.store import Store
from tests.support.mail_items import add_item
from tests.support.mailings import render_mailing


def test_press_release_with_embargo_contact_and_full_text(
    settings_factory: object, clock: FakeClock
) -> None:
    settings = settings_factory(  # type: ignore[operator]
        press={
            "contact_name": "Jana Köhler",
            "contact_email": "presse@junge-buergermeister.example",
            "contact_phone": "+49 30 1234567-0",
        }
    )
    store = Store.open(settings.database_url())
    item = add_item(
        store,
        title="Netzwerktreffen der jungen Bürgermeister*innen in Berlin",
        kind="press_release",
        published_at=clock.now() - timedelta(hours=1),
    )
    embargo = datetime(2026, 6, 23, 8, 0, tzinfo=UTC)  # 10:00 in Berlin
    mailing = compose_press(settings, store, item, clock=clock, embargo=embargo)
    rendered = render_mailing(settings, store, mailing.id, clock=clock)[0]
    html, text = rendered.html, rendered.text
    assert "Sperrfrist: Dienstag, 23. Juni 2026, 10:00 Uhr (MESZ)" in html
    assert "*** Sperrfrist: Dienstag, 23. Juni 2026, 10:00 Uhr (MESZ) ***" in text
    assert "Pressemitteilung" in html
    assert f"{SALUTATION}," in html
    assert "<h1" in html and "Netzwerktreffen der jungen Bürgermeister*innen in Berlin" in html
    # the full text, not only the summary
    assert "Die Deutsche Glasfaser ist ab sofort Themenpartner" in html
    assert "„Mit starken Kommunen Zukunft gestalten“" in html
    # the release's text credits its photo itself: no second caption in either part
    shown = re.sub(
        r'<div style="display:none;.*?</div>', "", html, count=1, flags=re.S
    )  # preheader
    assert shown.count("©NJB/Sebastian Bolesch") == 1
    assert text.count("©NJB/Sebastian Bolesch") == 1
    assert "Pressekontakt" in html and "Jana Köhler" in html
    assert 'href="mailto:presse@junge-buergermeister.example"' in html
    assert 'href="tel:+4930 1234567-0"' not in html and 'href="tel:+49301234567-0"' in html
    assert "E-Mail: presse@junge-buergermeister.example" in text
    assert (
        "Sie erhalten diese E-Mail, weil Sie sich für den Presseverteiler angemeldet haben." in html
    )
    assert f'href="{UNSUB_URL}"' in html
    assert "Online lesen [" in text
    store.close()


def test_confirmation_mail_asks_once_and_promotes_nothing(settings: Settings) -> None:
    url = "https://rundbrief.junge-buergermeister.example/confirm/TOKEN123"
    rendered = render_confirmation(settings, language="de", list_name="press", confirm_url=url)
    assert rendered.mailing_id is None
    assert rendered.subject == "Bitte bestätigen Sie Ihre Anmeldung: Presseverteiler"
    html, text = rendered.html, rendered.text
    assert html.count(f'href="{url}"') == 2  # the button and the written-out link
    assert ">Anmeldung bestätigen<" in html
    assert "Der Link ist 7 Tage gültig." in html
    assert "ignorieren Sie diese E-Mail" in html
    # no placeholders (nothing to unsubscribe from yet), no archive, no items
    assert "⟦" not in html + text
    assert "/archive/" not in html and "Weiterlesen" not in html
    assert "Marienstraße 6, 10117 Berlin" in html and "Impressum" in html
    assert url in text and "Anmeldung bestätigen:" in text
    check_html(html, language="de", preheader=rendered.preheader, name="confirmation")


def test_confirmation_in_english(settings: Settings) -> None:
    rendered = render_confirmation(
        settings, language="en", list_name="press", confirm_url="https://x.example/c/1"
    )
    assert '<html lang="en"' in rendered.html
    assert "Please confirm your subscription" in rendered.html
    assert rendered.text.count("https://x.example/c/1") == 1
