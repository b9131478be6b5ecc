"""Double submits are harmless: the same approve, test copy or follow-up form sent twice
acts once; the second answer is a notice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pipeline import audit
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Workflow
from pipeline.models import MailingStatus
from pipeline.store import Store
from pipeline.store import mailings as store_mailings
from tests.support.followups import refusing_sink, send_original
from tests.support.smtp import SmtpServer
from tests.support.web import EDITOR, login, make_app, seed_mailing, set_editor_env

NOTICE = "Dieses Formular war schon abgeschickt: es wurde nichts ein zweites Mal ausgeführt."


def _form(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action`` (as the browser sends them)."""
    start = html.index(f'action="{action}"')
    body = html[start : html.index("</form>", start)]
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body)
    return {name: unescape(value) for name, value in fields}


def _shown(client: FlaskClient, answer: Any) -> str:
    assert answer.status_code == 303
    return unescape(client.get(answer.headers["Location"]).get_data(as_text=True))


def test_approve_twice_approves_once(client: FlaskClient, store: Store, clock: FakeClock) -> None:
    mailing = seed_mailing(store, clock)
    login(client)
    action = f"/editor/mailings/{mailing.id}/approve"
    page = client.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    form = _form(page, action)
    assert form.get("once") and form.get("version")

    first = _shown(client, client.post(action, data=form))
    assert "Das Mailing ist freigegeben." in first
    clock.advance(1)
    second = _shown(client, client.post(action, data=form))
    assert NOTICE in second
    assert "Nicht freigegeben" not in second and "inzwischen geändert" not in second
    assert store_mailings.get_mailing(store, mailing.id).status == MailingStatus.APPROVED
    approvals = [e for e in audit.entries(store, mailing=mailing.id) if "approve" in e.action]
    assert len(approvals) == 1


@pytest.fixture
def smtp_app(
    settings_factory: Any,
    store: Store,
    clock: FakeClock,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Flask:
    settings = settings_factory(
        delivery={"transport": "smtp", "per_second": 1000},
        smtp={"host": "127.0.0.1", "port": smtp_server.port, "security": "none"},
    )
    set_editor_env(monkeypatch, settings)
    return make_app(settings, store, clock)


def test_a_test_copy_sent_twice_within_seconds_goes_once(
    smtp_app: Flask, store: Store, clock: FakeClock, smtp_server: Any
) -> None:
    mailing = seed_mailing(store, clock)
    action = f"/editor/mailings/{mailing.id}/test"
    with smtp_app.test_client() as client:
        login(client)
        page = client.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
        form = {**_form(page, action), "to": EDITOR}
        first = _shown(client, client.post(action, data=form))
        assert "unterwegs" in first
        clock.advance(2)
        second = _shown(client, client.post(action, data=form))
        assert NOTICE in second and "unterwegs" not in second
        assert len(smtp_server.messages) == 1
        # the page after it has a fresh form: a deliberate second copy still goes
        again = {**_form(second, action), "to": EDITOR}
        assert again["once"] != form["once"]
        assert "unterwegs" in _shown(client, client.post(action, data=again))
    assert len(smtp_server.messages) == 2


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    server = SmtpServer(refusing_sink()).start()
    yield server
    server.stop()


def test_a_follow_up_sent_twice_is_composed_once(
    client: FlaskClient,
    settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")
    sent = send_original(settings, store, clock, tmp_path, server).mailing_id
    login(client)
    action = f"/editor/mailings/{sent}/followup"
    page = client.get(f"/editor/mailings/{sent}").get_data(as_text=True)
    form = {
        **_form(page, action),
        "kind": "correction",
        "title": "Korrigierte Zahlen",
        "text": "Richtig ist: 12 Kommunen, nicht 21.",
    }
    assert "ist als Entwurf angelegt" in _shown(client, client.post(action, data=form))
    second = client.post(action, data=form)
    assert second.headers["Location"].endswith(f"/editor/mailings/{sent}#follow-ups")
    assert NOTICE in _shown(client, second)
    assert len(Workflow(settings, store, clock).follow_ups(sent)) == 1
