"""Public pages speak the visitor's language: the subscriber's own behind their links,
``?lang=`` or Accept-Language on the sign-up form; address errors are ours, localised."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from pipeline.audience.links import preferences_url, unsubscribe_url
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from pipeline.web import create_app
from tests.deliver.support import add_subscribers

SECRET = "ein-langes-geheimnis-fuer-signierte-links-0123"


@pytest.fixture
def client(
    settings: Settings, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FlaskClient]:
    monkeypatch.setenv(settings.web.secret_env, SECRET)
    app = create_app(settings, store, clock=clock)
    with app.test_client() as test_client:
        yield test_client


def _english_subscriber(store: Store, clock: FakeClock) -> int:
    add_subscribers(store, clock, 1, lists=("members", "press"))
    with store.begin() as conn:
        from sqlalchemy import update

        from pipeline.store.schema import subscribers

        conn.execute(update(subscribers).values(language="en"))
        return int(conn.execute(subscribers.select()).first().id)  # type: ignore[union-attr]


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_an_english_subscribers_pages_are_english(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    person = _english_subscriber(store, clock)
    prefs = client.get(_path(preferences_url(settings, SECRET, person, "members"))).text
    assert '<html lang="en">' in prefs and "Your preferences" in prefs
    assert "Einstellungen" not in prefs and "Impressum" not in prefs
    unsub = client.get(_path(unsubscribe_url(settings, SECRET, person, "members"))).text
    assert "Unsubscribe now" in unsub and "abmelden" not in unsub.lower()


@pytest.mark.parametrize(
    "query, headers",
    [("?lang=en", {}), ("", {"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"})],
)
def test_the_signup_form_follows_lang_and_accept_language(
    client: FlaskClient, query: str, headers: dict[str, str]
) -> None:
    page = client.get(f"/signup{query}", headers=headers).text
    assert '<html lang="en">' in page and "E-mail address" in page
    assert "Anmeldung" not in page and "Datenschutz" not in page
    german = client.get("/signup", headers={"Accept-Language": "de-DE"}).text
    assert '<html lang="de">' in german and "E-Mail-Adresse" in german


def test_email_validator_reasons_are_localised(client: FlaskClient) -> None:
    page = client.get("/signup?lang=en").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    form = {"csrf_token": token.group(1), "list": "press", "consent": "yes"}
    english = client.post("/signup", data={**form, "email": "anna", "language": "en"})
    assert english.status_code == 400
    assert "This e-mail address is not valid: The @ sign is missing." in english.text
    assert "@-sign" not in english.text
    german = client.post("/signup", data={**form, "email": "anna", "language": "de"})
    assert "Diese E-Mail-Adresse ist ungültig: Es fehlt das @-Zeichen." in german.text
    assert "An email address" not in german.text
