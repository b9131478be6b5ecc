"""Editor sessions live on the server: a cookie copied before logout (or before the
password changed) is worthless afterwards, for reading and for changing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store, web_sessions
from pipeline.store import mailings as store_mailings
from tests.support.settings import make_settings
from tests.support.web import (
    EDITOR,
    PASSWORD,
    csrf_from,
    login,
    make_app,
    seed_mailing,
    set_editor_env,
)

COOKIE = "rundbrief_session"


@pytest.fixture
def editor(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        assert login(client).status_code == 303
        yield client


def _copied(app: Flask, cookie: str) -> FlaskClient:
    """Another browser that holds a copy of the cookie (stolen, or kept from before)."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie)
    return thief


def _edit(client: FlaskClient, mailing_id: int, token: str, subject: str) -> int:
    response = client.post(
        f"/editor/mailings/{mailing_id}/content",
        data={"csrf_token": token, "subject": subject, "intro": "x"},
    )
    return response.status_code


def test_logout_ends_the_session_on_the_server(
    app: Flask, editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    page = editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    token = csrf_from(page)
    saved = editor.get_cookie(COOKIE)
    assert saved is not None
    # The copy works while the session lives (so the checks below can fail).
    assert _copied(app, saved.value).get("/editor/").status_code == 200

    assert editor.post("/editor/logout", data={"csrf_token": token}).status_code == 303

    replay = _copied(app, saved.value)
    answer = replay.get("/editor/")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/editor/login")
    assert _edit(replay, mailing.id, token, "Nach dem Abmelden") == 401
    assert store_mailings.get_mailing(store, mailing.id).subject != "Nach dem Abmelden"
    # The row says when it ended.
    rows = web_sessions.sessions_of(store, EDITOR)
    assert [r.ended_at for r in rows] == [clock.now()]


def test_a_password_change_ends_every_session(
    app: Flask,
    editor: FlaskClient,
    settings: Settings,
    store: Store,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mailing = seed_mailing(store, clock)
    token = csrf_from(editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True))
    saved = editor.get_cookie(COOKIE)
    assert saved is not None
    assert editor.get("/editor/").status_code == 200

    # A new password (here by the editor's admin on the CLI) ends every session at once.
    from pipeline.accounts import Accounts

    accounts = Accounts(store, settings, clock)
    admin = accounts.actor_for(EDITOR)
    accounts.passwd(admin, EDITOR, "Ein-ganz-neues-Passwort-2026")
    restarted = app

    replay = _copied(restarted, saved.value)
    assert replay.get("/editor/").status_code == 302
    assert _edit(replay, mailing.id, token, "Mit altem Passwort") == 401
    assert store_mailings.get_mailing(store, mailing.id).subject != "Mit altem Passwort"
    assert [s.end_reason for s in accounts.sessions(admin, EDITOR)] == ["password_changed"]
    with restarted.test_client() as fresh:
        assert login(fresh, password=PASSWORD).status_code != 303
        assert login(fresh, password="Ein-ganz-neues-Passwort-2026").status_code == 303
        assert fresh.get("/editor/").status_code == 200


def test_a_session_records_where_and_when(
    app: Flask, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.test_client() as client:
        client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
        client.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 " + "x" * 500
        assert login(client).status_code == 303
        clock.advance(minutes=30)
        assert client.get("/editor/").status_code == 200
    [row] = web_sessions.sessions_of(store, EDITOR)
    assert row.client_address == "198.51.100.7"
    assert row.user_agent.startswith("Mozilla/5.0") and len(row.user_agent) <= 200
    assert row.expires_at - row.created_at == (clock.now() - row.created_at) * 24
    assert row.last_seen_at == clock.now()
    assert row.ended_at is None


def test_logging_in_again_ends_the_previous_session(app: Flask, store: Store) -> None:
    with app.test_client() as client:
        assert login(client).status_code == 303
        first = client.get_cookie(COOKIE)
        assert first is not None
        # The login form is not shown to a logged-in browser, but its POST is accepted.
        token = csrf_from(client.get("/editor/").get_data(as_text=True))
        again = client.post(
            "/editor/login", data={"username": EDITOR, "password": PASSWORD, "csrf_token": token}
        )
        assert again.status_code == 303
        assert client.get("/editor/").status_code == 200
    assert _copied(app, first.value).get("/editor/").status_code == 302
    reasons = [r.end_reason for r in web_sessions.sessions_of(store, EDITOR)]
    assert sorted(reasons, key=lambda r: r or "") == [None, "replaced"]


def test_logout_ends_the_session_on_postgresql(
    tmp_path: Path, pg_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, storage={"url": pg_url})
    set_editor_env(monkeypatch, settings)
    store = Store.open(pg_url)
    try:
        app = make_app(settings, store, clock)
        with app.test_client() as client:
            assert login(client).status_code == 303
            token = csrf_from(client.get("/editor/").get_data(as_text=True))
            saved = client.get_cookie(COOKIE)
            assert saved is not None
            clock.advance(minutes=10)
            assert client.get("/editor/").status_code == 200
            assert client.post("/editor/logout", data={"csrf_token": token}).status_code == 303
        assert _copied(app, saved.value).get("/editor/").status_code == 302
        [row] = web_sessions.sessions_of(store, EDITOR)
        assert row.last_seen_at == row.created_at + timedelta(minutes=10)
        assert (row.ended_at, row.end_reason) == (clock.now(), "logout")
    finally:
        store.close()
