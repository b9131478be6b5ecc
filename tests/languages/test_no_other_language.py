"""Every mail template and every public page, rendered in German and in English, holds
no string of the other language: each locale value of one language (its literal parts
around {placeholders}) is looked for in the other's output, unless both say the same.
Plus: de.toml and en.toml have the same keys."""

from __future__ import annotations

import copy
import html
import re
import string
import tomllib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from pipeline.audience.links import confirm_url, preferences_url, unsubscribe_url
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Workflow
from pipeline.mailings.compose import compose_newsletter, compose_press
from pipeline.render import render_confirmation
from pipeline.render.locale import BUNDLED_TEMPLATES
from pipeline.store import Store
from pipeline.store.schema import subscribers
from pipeline.web import create_app
from tests.deliver.support import add_subscribers
from tests.support.mail_items import add_item
from tests.support.settings import BASE, make_settings

LANGS = ("de", "en")
SECRET = "ein-langes-geheimnis-fuer-signierte-links-0123"
# Items in neither language: feed text is the organisation's, whatever the template's.
NEUTRAL = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor."
LIST_TEXT = {
    "members": {
        "de": ("Mitglieder-Newsletter", "Sie erhalten diese E-Mail als Mitglied des Netzwerks."),
        "en": ("Members' newsletter", "You receive this e-mail as a member of the network."),
    },
    "press": {
        "de": ("Presseverteiler", "Sie erhalten diese E-Mail aus unserem Presseverteiler."),
        "en": ("Press list", "You receive this e-mail from our press list."),
    },
}


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = str(value)
    return out


def _locale(language: str) -> dict[str, str]:
    path = BUNDLED_TEMPLATES / "locale" / f"{language}.toml"
    return _flat(tomllib.loads(path.read_text(encoding="utf-8")))


def _words(text: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def _fragments(value: str) -> list[str]:
    """The literal parts of a locale value, long enough to mean something."""
    parts = [literal for literal, *_ in string.Formatter().parse(value)]
    return [p for p in (" ".join(part.split()).strip(" ,.:·") for part in parts) if len(p) >= 5]


def _foreign(language: str) -> dict[str, list[str]]:
    """key -> the fragments of the other language that must not appear in ``language``."""
    own, other = _locale(language), _locale("en" if language == "de" else "de")
    out: dict[str, list[str]] = {}
    for key, value in other.items():
        mine = " ".join(own.get(key, "").split())
        found = [f for f in _fragments(value) if f not in mine]
        if found:
            out[key] = found
    for texts in LIST_TEXT.values():
        title, reason = texts["en" if language == "de" else "de"]
        out[f"list {title}"] = [reason]
        if title not in (t for t, _ in texts.values() if t != title):
            out[f"list title {title}"] = [title]
    return out


def _leaks(language: str, output: str) -> list[str]:
    seen = _words(output)
    return [
        f"{key}: {frag!r}"
        for key, frags in _foreign(language).items()
        for frag in frags
        if frag in seen
    ]


# --- key parity ------------------------------------------------------------------------


def test_locale_files_have_the_same_keys_and_placeholders() -> None:
    de, en = _locale("de"), _locale("en")
    assert sorted(set(de) ^ set(en)) == []

    def fields(value: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(value) if f}

    assert [k for k in de if fields(de[k]) != fields(en[k])] == []


# --- everything rendered ---------------------------------------------------------------


def _settings(tmp_path: Path) -> Settings:
    lists = copy.deepcopy(BASE["lists"])
    for entry in lists:
        texts = LIST_TEXT[entry["name"]]
        entry["title"], entry["reason"] = texts["de"]
        entry["en"] = dict(zip(("title", "reason"), texts["en"], strict=True))
    return make_settings(
        tmp_path,
        compose={"languages": ["de", "en"]},
        lists=lists,
        organisation={"privacy_url": "https://www.junge-buergermeister.example/datenschutz"},
        press={
            "contact_name": "Jana Köhler",
            "contact_email": "presse@junge-buergermeister.example",
            "contact_phone": "+49 30 1234567-0",
        },
        sender={"reply_to": "kontakt@junge-buergermeister.example"},
        web={"base_url": "http://rundbrief.junge-buergermeister.example"},
    )


def _item(store: Store, clock: FakeClock, n: int, kind: str) -> int:
    return add_item(
        store,
        title=f"Lorem ipsum {n}",
        kind=kind,
        published_at=clock.now() - timedelta(hours=n + 1),
        summary=NEUTRAL,
        content_html=f"<p>{NEUTRAL}</p>",
        image_alt="Lorem ipsum",
        image_credit="Lorem Ipsum",
        author="Lorem Ipsum",
    )


@pytest.fixture
def world(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Settings, Store, FakeClock]]:
    settings = _settings(tmp_path)
    monkeypatch.setenv(settings.web.secret_env, SECRET)
    store = Store.open(settings.database_url())
    yield settings, store, clock
    store.close()


def _mails(settings: Settings, store: Store, clock: FakeClock) -> dict[str, dict[str, str]]:
    """name -> language -> HTML and text of every mail template."""
    for n, kind in enumerate(("article", "event_report", "press_release", "article")):
        press_item = _item(store, clock, n, kind)
    flow = Workflow(settings, store, clock)
    newsletter = compose_newsletter(settings, store, clock=clock)
    assert newsletter is not None
    press = compose_press(
        settings, store, press_item, clock=clock, embargo=clock.now() + timedelta(days=1)
    )
    out: dict[str, dict[str, str]] = {}
    for name, mailing in (("newsletter", newsletter), ("press", press)):
        renders = flow.renders(flow.get(mailing.id), fresh=True)
        out[name] = {lang: f"{r.subject}\n{r.html}\n{r.text}" for lang, r in renders.items()}
    out["confirmation"] = {}
    for lang in LANGS:
        r = render_confirmation(
            settings, language=lang, list_name="press", confirm_url="https://x.example/c"
        )
        out["confirmation"][lang] = f"{r.subject}\n{r.html}\n{r.text}"
    return out


def test_every_mail_in_each_language_holds_none_of_the_other(
    world: tuple[Settings, Store, FakeClock],
) -> None:
    mails = _mails(*world)
    problems = {
        f"{name} ({lang})": _leaks(lang, output)
        for name, by_lang in mails.items()
        for lang, output in by_lang.items()
    }
    assert {k: v for k, v in problems.items() if v} == {}
    assert set(mails["newsletter"]) == set(LANGS)


def _pages(
    settings: Settings, store: Store, clock: FakeClock, client: FlaskClient, lang: str
) -> dict[str, str]:
    add_subscribers(store, clock, 1, lists=("members", "press"), prefix=f"leser-{lang}")
    with store.begin() as conn:
        row = conn.execute(subscribers.select().order_by(subscribers.c.id.desc())).first()
        assert row is not None
        person = int(row.id)
        conn.execute(update(subscribers).where(subscribers.c.id == person).values(language=lang))
    headers = {"Accept-Language": lang}

    def get(url: str) -> str:
        path = "/" + url.split("/", 3)[3] if url.startswith("http") else url
        return client.get(path, headers=headers).text

    pages = {
        "signup": get(f"/signup?lang={lang}"),
        "archive": get("/archive"),
        "archive unsubscribe info": get("/archive/unsubscribe-info"),
        "not found": get("/archive/999"),
        "invalid link": get("/u/not-a-token"),
        "preferences": get(preferences_url(settings, SECRET, person, "members")),
        "unsubscribe": get(unsubscribe_url(settings, SECRET, person, "members")),
        "confirm": get(confirm_url(settings, SECRET, person, "press", issued_at=clock.now())),
    }
    done = client.post(
        "/" + unsubscribe_url(settings, SECRET, person, "members").split("/", 3)[3],
        data={"List-Unsubscribe": "One-Click"},
        headers=headers,
    )
    pages["unsubscribed"] = done.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', pages["signup"])
    assert token is not None
    form = {"csrf_token": token.group(1), "list": "press", "language": lang}
    pages["signup error"] = client.post(
        "/signup", data={**form, "email": "x@", "consent": "yes"}, headers=headers
    ).text
    pages["signup consent"] = client.post(
        "/signup", data={**form, "email": "a@b.example"}, headers=headers
    ).text
    pages["signup done"] = client.post(
        "/signup",
        data={**form, "email": f"neu-{lang}@beispiel.example", "consent": "yes"},
        headers=headers,
    ).text
    return pages


@pytest.mark.parametrize("lang", LANGS)
def test_every_public_page_in_each_language_holds_none_of_the_other(
    world: tuple[Settings, Store, FakeClock], lang: str
) -> None:
    settings, store, clock = world
    app = create_app(settings, store, clock=clock)
    with app.test_client() as client:
        pages = _pages(settings, store, clock, client, lang)
        with app.test_request_context(f"/?lang={lang}"):
            from flask import render_template

            pages["unavailable"] = render_template("unavailable.html", retry_after=30)
    for name, page in pages.items():
        assert f'<html lang="{lang}">' in page, name
    problems = {name: _leaks(lang, page) for name, page in pages.items()}
    assert {k: v for k, v in problems.items() if v} == {}
