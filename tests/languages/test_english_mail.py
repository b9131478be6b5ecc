"""A mailing in German and English: every language-dependent part of the English version
is English (subject, <title>, footer reason, view-in-browser link, confirmation)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Workflow
from pipeline.mailings.compose import compose_newsletter
from pipeline.render import render_confirmation
from pipeline.store import Store
from tests.support.mail_items import add_items
from tests.support.mailings import actor
from tests.support.settings import BASE, make_settings

MEMBERS_EN = {
    "title": "Members' newsletter",
    "reason": "You receive this e-mail as a member of the network.",
}


def _lists(**english: dict[str, str]) -> list[dict[str, Any]]:
    lists = copy.deepcopy(BASE["lists"])
    for entry in lists:
        if entry["name"] in english:
            entry["en"] = english[entry["name"]]
    return list(lists)


def _bilingual(tmp_path: Path, **overrides: Any) -> Settings:
    overrides.setdefault("compose", {"languages": ["de", "en"]})
    return make_settings(tmp_path, lists=_lists(members=MEMBERS_EN), **overrides)


def _renders(settings: Settings, store: Store, clock: FakeClock) -> tuple[int, dict[str, Any]]:
    add_items(store, clock.now(), 3)
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    flow = Workflow(settings, store, clock)
    return mailing.id, flow.renders(flow.get(mailing.id), fresh=True)


def _words(text: str) -> str:
    return " ".join(text.split())  # the text part wraps lines at 72 characters


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found is not None
    return found.group(1).strip()


def test_each_language_has_its_own_subject_and_title(
    tmp_path: Path, store: Store, clock: FakeClock
) -> None:
    settings = _bilingual(tmp_path)
    _, renders = _renders(settings, store, clock)
    de, en = renders["de"], renders["en"]
    assert de.subject == "Netzwerk Junge Bürgermeister*innen · Newsletter KW 25/2026"
    assert en.subject == "Netzwerk Junge Bürgermeister*innen · Newsletter, week 25/2026"
    assert _title(en.html) == en.subject and _title(de.html) == de.subject


def test_a_configured_subject_pattern_per_language(
    tmp_path: Path, store: Store, clock: FakeClock
) -> None:
    settings = _bilingual(
        tmp_path,
        compose={
            "languages": ["de", "en"],
            "subject_pattern": "Rundbrief {week}/{year}",
            "subject_patterns": {"en": "Weekly letter {week}/{year}"},
        },
    )
    _, renders = _renders(settings, store, clock)
    assert renders["de"].subject == "Rundbrief 25/2026"
    assert renders["en"].subject == "Weekly letter 25/2026"


def test_an_edited_subject_goes_to_every_language(
    tmp_path: Path, store: Store, clock: FakeClock
) -> None:
    settings = _bilingual(tmp_path)
    mailing_id, _ = _renders(settings, store, clock)
    flow = Workflow(settings, store, clock)
    flow.edit(mailing_id, subject="Sonderausgabe: Wärmeplanung", by=actor())
    renders = flow.renders(flow.get(mailing_id), fresh=True)
    assert {r.subject for r in renders.values()} == {"Sonderausgabe: Wärmeplanung"}


def test_footer_reason_and_archive_link_per_language(
    tmp_path: Path, store: Store, clock: FakeClock
) -> None:
    settings = _bilingual(tmp_path)
    mailing_id, renders = _renders(settings, store, clock)
    de, en = renders["de"], renders["en"]
    german_reason = "Sie erhalten diese E-Mail als Mitglied des Netzwerks."
    assert german_reason in de.html and german_reason in _words(de.text)
    assert MEMBERS_EN["reason"] in en.html and MEMBERS_EN["reason"] in _words(en.text)
    assert german_reason not in en.html + _words(en.text)
    base = settings.web.base_url
    assert f'href="{base}/archive/{mailing_id}/en"' in en.html
    assert f"{base}/archive/{mailing_id}/en" in en.text
    assert f'href="{base}/archive/{mailing_id}"' in de.html
    assert f"/archive/{mailing_id}/en" not in de.html + de.text


def test_a_list_without_an_english_reason_gets_the_english_standard_line(
    tmp_path: Path, store: Store, clock: FakeClock
) -> None:
    settings = make_settings(tmp_path, compose={"languages": ["de", "en"]})
    _, renders = _renders(settings, store, clock)
    en = renders["en"]
    assert "Sie erhalten" not in en.html + en.text
    assert "You receive this e-mail because you are on our list" in _words(en.text)


def test_confirmation_mail_in_english_names_the_list_in_english(tmp_path: Path) -> None:
    settings = _bilingual(tmp_path)
    english = render_confirmation(
        settings,
        language="en",
        list_name="members",
        confirm_url="https://rundbrief.example/confirm/abc",
    )
    assert english.subject == "Please confirm your subscription: Members' newsletter"
    assert "Mitglieder" not in english.html + english.text
    german = render_confirmation(
        settings,
        language="de",
        list_name="members",
        confirm_url="https://rundbrief.example/confirm/abc",
    )
    assert german.subject == "Bitte bestätigen Sie Ihre Anmeldung: Mitglieder-Newsletter"
