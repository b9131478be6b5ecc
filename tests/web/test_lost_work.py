"""No lost work: a form sent after the session ended keeps what was typed over the log-in,
and the editor lands on the same page again."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.store import Store
from pipeline.store import mailings as store_mailings
from pipeline.store.schema import kept_forms
from tests.support.web import EDITOR, PASSWORD, csrf_from, login, seed_mailing

INTRO = "Liebe Mitglieder,\n\nheute schreiben wir über die **Wärmeplanung** in Görlitz."


@pytest.fixture
def editor(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        assert login(client).status_code == 303
        yield client


def _next_of(html: str) -> str:
    found = re.search(r'name="next" value="([^"]*)"', html)
    assert found, "no next field on the log-in form"
    return found.group(1)


def _log_in_from(client: FlaskClient, html: str, password: str = PASSWORD) -> str:
    """Log in through the form on ``html`` (the one the expired POST answered with)."""
    answer = client.post(
        "/editor/login",
        data={
            "email": EDITOR,
            "password": password,
            "csrf_token": csrf_from(html),
            "next": _next_of(html),
        },
    )
    assert answer.status_code == 303
    return str(answer.headers["Location"])


def _kept_rows(store: Store) -> list[dict[str, object]]:
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(kept_forms.select())]


def test_an_expired_session_keeps_the_typed_intro_over_the_login(
    editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    page = editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    version = re.search(r'name="version" value="([^"]+)"', page)
    assert version
    clock.advance(hours=13)  # the session (12 hours) has ended meanwhile

    answer = editor.post(
        f"/editor/mailings/{mailing.id}/content",
        data={
            "csrf_token": csrf_from(page),
            "version": version.group(1),
            "subject": "Wärmeplanung gemeinsam denken",
            "preheader": "Neues aus den Kommunen",
            "intro": INTRO.replace("\n", "\r\n"),
        },
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 401
    assert "Anmeldung für die Redaktion" in html
    assert "Ihre Eingaben sind aufbewahrt" in html
    assert _next_of(html) == f"/editor/mailings/{mailing.id}"
    # nothing saved, and no secret kept
    assert store_mailings.get_mailing(store, mailing.id).subject != "Wärmeplanung gemeinsam denken"
    (row,) = _kept_rows(store)
    assert row["account"] == EDITOR and row["endpoint"] == "editor.save_content"
    assert "csrf_token" not in row["fields"]  # type: ignore[operator]
    assert INTRO not in html  # kept on the server, not in the page

    location = _log_in_from(editor, html)
    assert location == f"/editor/mailings/{mailing.id}"
    back = editor.get(location).get_data(as_text=True)
    assert "Ihr Text ist noch nicht gespeichert" in back
    assert "der letzte Schritt wurde nicht ausgeführt" in back
    assert 'value="Wärmeplanung gemeinsam denken"' in back
    assert 'value="Neues aus den Kommunen"' in back
    assert "heute schreiben wir über die **Wärmeplanung** in Görlitz." in back
    # still not saved: the editor saves it consciously
    assert store_mailings.get_mailing(store, mailing.id).intro_md != INTRO
    assert _kept_rows(store) == []  # one use
    again = editor.get(location).get_data(as_text=True)
    assert "Ihr Text ist noch nicht gespeichert" not in again

    saved = editor.post(
        f"/editor/mailings/{mailing.id}/content",
        data={
            "csrf_token": csrf_from(back),
            "version": re.search(r'name="version" value="([^"]+)"', back).group(1),  # type: ignore[union-attr]
            "subject": "Wärmeplanung gemeinsam denken",
            "preheader": "Neues aus den Kommunen",
            "intro": INTRO,
        },
    )
    assert saved.status_code == 303
    assert store_mailings.get_mailing(store, mailing.id).intro_md == INTRO


def test_a_password_is_never_kept(editor: FlaskClient, store: Store, clock: FakeClock) -> None:
    page = editor.get("/editor/account").get_data(as_text=True)
    clock.advance(hours=13)
    answer = editor.post(
        "/editor/account",
        data={
            "csrf_token": csrf_from(page),
            "current_password": PASSWORD,
            "new_password": "Ein-neues-Passwort-2026!",
            "repeat_password": "Ein-neues-Passwort-2026!",
        },
    )
    assert answer.status_code == 401
    assert "Ihre Sitzung ist abgelaufen" in answer.get_data(as_text=True)
    assert _kept_rows(store) == []  # only secrets were typed: nothing to keep
    assert _next_of(answer.get_data(as_text=True)) == "/editor/account"


def test_a_foreign_post_without_the_token_keeps_nothing(
    client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    answer = client.post(
        f"/editor/mailings/{mailing.id}/content", data={"subject": "Untergeschoben"}
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 401
    assert "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich an" in html
    assert _kept_rows(store) == []


def test_a_kept_form_is_not_shown_to_another_account(
    editor: FlaskClient, app: Flask, store: Store, clock: FakeClock
) -> None:
    from pipeline.accounts import Accounts

    service = Accounts(store, app.extensions["rundbrief"].settings, clock)
    service.add(service.actor_for(EDITOR), "zweite@example.org", "editor", "Z-Passwort-2026!x")
    mailing = seed_mailing(store, clock)
    page = editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    clock.advance(hours=13)
    html = editor.post(
        f"/editor/mailings/{mailing.id}/content",
        data={"csrf_token": csrf_from(page), "subject": "Nur für mich", "intro": "privat"},
    ).get_data(as_text=True)
    assert len(_kept_rows(store)) == 1
    answer = editor.post(
        "/editor/login",
        data={
            "email": "zweite@example.org",
            "password": "Z-Passwort-2026!x",
            "csrf_token": csrf_from(html),
            "next": _next_of(html),
        },
    )
    assert answer.status_code == 303
    back = editor.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Nur für mich" not in back
    assert "Ihr Text ist noch nicht gespeichert" not in back
    assert _kept_rows(store) == []


def test_an_expired_session_on_a_page_returns_to_it_after_login(
    editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    clock.advance(hours=13)
    answer = editor.get(f"/editor/mailings/{mailing.id}?lang=de")
    assert answer.status_code == 302
    form = editor.get(answer.headers["Location"]).get_data(as_text=True)
    assert _next_of(form) == f"/editor/mailings/{mailing.id}?lang=de"
    assert _log_in_from(editor, form) == f"/editor/mailings/{mailing.id}?lang=de"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/archive"])
def test_the_next_page_after_login_is_our_own(client: FlaskClient, target: str) -> None:
    html = client.get("/editor/login").get_data(as_text=True)
    answer = client.post(
        "/editor/login",
        data={"email": EDITOR, "password": PASSWORD, "csrf_token": csrf_from(html), "next": target},
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/editor/"


def test_too_much_text_is_not_kept_but_the_login_form_is_shown(
    editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    page = editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    clock.advance(hours=13)
    answer = editor.post(
        f"/editor/mailings/{mailing.id}/content",
        data={"csrf_token": csrf_from(page), "subject": "Lang", "intro": "x" * 100_001},
    )
    assert answer.status_code == 401
    html = answer.get_data(as_text=True)
    assert "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich an" in html
    assert _next_of(html) == f"/editor/mailings/{mailing.id}"
    assert _kept_rows(store) == []


def test_a_kept_form_expires(editor: FlaskClient, store: Store, clock: FakeClock) -> None:
    mailing = seed_mailing(store, clock)
    page = editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    clock.advance(hours=13)
    html = editor.post(
        f"/editor/mailings/{mailing.id}/content",
        data={"csrf_token": csrf_from(page), "subject": "Von gestern", "intro": "alt"},
    ).get_data(as_text=True)
    location = _log_in_from(editor, html)
    clock.advance(hours=13)  # logged in, but the page is opened only much later
    login(editor)
    back = editor.get(location).get_data(as_text=True)
    assert "Von gestern" not in back and "Ihr Text ist noch nicht gespeichert" not in back


def test_the_notices_speak_english_for_an_english_account(
    editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    page = editor.get("/editor/account").get_data(as_text=True)
    assert (
        editor.post(
            "/editor/account", data={"csrf_token": csrf_from(page), "ui_language": "en"}
        ).status_code
        == 303
    )
    page = editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    clock.advance(hours=13)
    html = editor.post(
        f"/editor/mailings/{mailing.id}/content",
        data={"csrf_token": csrf_from(page), "subject": "Betreff", "intro": "Text"},
    ).get_data(as_text=True)
    location = _log_in_from(editor, html)
    back = editor.get(location).get_data(as_text=True)
    assert "Your text is not saved yet." in back
