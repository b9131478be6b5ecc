"""Test copies are the mail: the chosen person's greeting, and links that change nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from pipeline.audience.csv_import import import_file
from pipeline.clock import FakeClock
from pipeline.store import Store
from pipeline.store import audience as q
from tests.support.web import EDITOR, csrf_from, login, make_app, seed_mailing, set_editor_env

MEMBERS = (
    "email,salutation,first_name,last_name,language\nkarl.kaiser@example.org,Herr,Karl,Kaiser,de\n"
)
KARL = "karl.kaiser@example.org"


@pytest.fixture
def app(
    settings_factory: Any,
    store: Store,
    clock: FakeClock,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Flask:
    settings = settings_factory(
        delivery={"transport": "smtp", "per_second": 1000},
        smtp={"host": "127.0.0.1", "port": smtp_server.port, "security": "none"},
    )
    set_editor_env(monkeypatch, settings)
    path = tmp_path / "members.csv"
    path.write_text(MEMBERS, encoding="utf-8")
    import_file(settings, store, path, clock=clock, list_name="members")
    return make_app(settings, store, clock)


def _send(client: Any, mailing_id: int, person: str) -> str:
    page = client.get(f"/editor/mailings/{mailing_id}").get_data(as_text=True)
    response = client.post(
        f"/editor/mailings/{mailing_id}/test",
        data={"csrf_token": csrf_from(page), "to": EDITOR, "person": person},
    )
    assert response.status_code == 303
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _text(received: Any) -> str:
    for part in received.message.walk():
        if part.get_content_type() == "text/plain":
            return str(part.get_payload(decode=True).decode("utf-8"))
    raise AssertionError("no text part")


def test_sample_copy_greets_as_the_preview(
    app: Flask, store: Store, clock: FakeClock, smtp_server: Any
) -> None:
    mailing = seed_mailing(store, clock)
    with app.test_client() as client:
        login(client)
        preview = client.get(f"/editor/mailings/{mailing.id}/render/de").get_data(as_text=True)
        assert "Erika" in preview
        assert "unterwegs" in _send(client, mailing.id, "")
    text = _text(smtp_server.messages[0])
    greeting = next(line for line in text.splitlines() if "Erika" in line)
    assert greeting.strip() in preview
    assert smtp_server.messages[0].rcpt_tos == [EDITOR]


def test_a_subscribers_copy_has_links_that_change_nothing(
    app: Flask, store: Store, clock: FakeClock, smtp_server: Any
) -> None:
    mailing = seed_mailing(store, clock)
    with app.test_client() as client:
        login(client)
        page = client.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
        assert f'<option value="{KARL}">' in page
        assert "unterwegs" in _send(client, mailing.id, KARL)
    received = smtp_server.messages[0]
    assert "Karl" in _text(received) or "Kaiser" in _text(received)
    header = received.message["List-Unsubscribe"]
    unsubscribe = re.search(r"<https?://[^/]+(/u/[^>]+)>", header).group(1)
    with app.test_client() as public:
        shown = public.get(unsubscribe).get_data(as_text=True)
        assert "Dies ist eine Testkopie – es wurde nichts geändert" in shown
        posted = public.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
        assert posted.status_code == 200
        assert "es wurde nichts geändert" in posted.get_data(as_text=True)
        assert "Sie sind abgemeldet" not in posted.get_data(as_text=True)
    with store.connect() as conn:
        karl = q.find_subscriber(conn, KARL)
        assert karl is not None
        assert q.get_subscription(conn, karl.id, "members").status == "active"


def test_a_stranger_is_not_a_person_to_copy(
    app: Flask, store: Store, clock: FakeClock, smtp_server: Any
) -> None:
    mailing = seed_mailing(store, clock)
    with app.test_client() as client:
        login(client)
        page = _send(client, mailing.id, "fremd@example.org")
    assert "nicht versendet" in page
    assert smtp_server.messages == []
