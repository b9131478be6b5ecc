"""The follow-up form on the editor page of a sent press release (issue 13, item 2):
kind and text, German labels, a refusal shows the page again with what was typed."""

from __future__ import annotations

from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Workflow
from pipeline.models import FollowKind
from pipeline.store import Store
from tests.support.followups import REACHED, refusing_sink, send_original
from tests.support.mail_items import seed_paragraphs
from tests.support.smtp import SmtpServer
from tests.support.web import csrf_from, login


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    server = SmtpServer(refusing_sink()).start()
    yield server
    server.stop()


@pytest.fixture
def sent(
    client: FlaskClient,
    settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
) -> int:
    return send_original(settings, store, clock, tmp_path, server).mailing_id


def test_the_form_composes_a_follow_up_and_keeps_what_was_typed_on_a_refusal(
    client: FlaskClient, sent: int, settings: Settings, store: Store, clock: FakeClock
) -> None:
    login(client)
    page = client.get(f"/editor/mailings/{sent}")
    html = page.get_data(as_text=True)
    assert "Nachträge" in html and 'id="followup-form"' in html
    assert '<option value="correction"' in html and "Berichtigung" in html
    token = csrf_from(html)
    path = f"/editor/mailings/{sent}/followup"
    title = "Korrigierte Zahlen zum Investitionsprogramm"
    # a lift of a release without an embargo: refused in German, the typing kept
    refused = client.post(
        path, data={"csrf_token": token, "kind": "lift", "title": title, "text": "Entwurf <b>"}
    )
    assert refused.status_code == 422
    again = unescape(refused.get_data(as_text=True))
    assert "keine Sperrfrist, die aufgehoben werden könnte" in again
    assert f'value="{title}"' in again and "Entwurf <b>" in again
    assert '<option value="lift" selected' in again
    # a correction without a text: refused, nothing made
    no_text = client.post(path, data={"csrf_token": token, "kind": "correction", "title": title})
    assert no_text.status_code == 422
    assert "braucht einen Text" in no_text.get_data(as_text=True)
    flow = Workflow(settings, store, clock)
    assert flow.follow_ups(sent) == []
    text = "Richtig ist: " + seed_paragraphs()[0][:180]
    made = client.post(
        path, data={"csrf_token": token, "kind": "correction", "title": title, "text": text}
    )
    assert made.status_code == 303
    (follow_up,) = flow.follow_ups(sent)
    assert follow_up.follow_kind == FollowKind.CORRECTION and follow_up.subject == title
    assert made.headers["Location"].endswith(f"/editor/mailings/{follow_up.id}")
    shown = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "ist als Entwurf angelegt" in shown
    assert f'Berichtigung zu <a href="/editor/mailings/{sent}">' in shown
    assert f'id="recipients">{len(REACHED) + 2}' in shown  # nobody has left the list yet
    assert 'id="followup-form"' not in shown  # no follow-up of a follow-up
    listed = client.get(f"/editor/mailings/{sent}").get_data(as_text=True)
    assert f"Berichtigung Nr. {follow_up.id}" in listed


def test_the_form_needs_the_csrf_token(client: FlaskClient, sent: int) -> None:
    login(client)
    answer = client.post(f"/editor/mailings/{sent}/followup", data={"kind": "withdraw"})
    assert answer.status_code in (400, 403)


def test_the_record_of_the_original_names_the_follow_ups_each_got(
    client: FlaskClient,
    sent: int,
    settings: Settings,
    store: Store,
    clock: FakeClock,
    server: SmtpServer,
) -> None:
    from tests.support.followups import delivered_follow_up
    from tests.support.press_record import EDITOR

    flow = Workflow(settings, store, clock)
    update = flow.compose_followup(sent, "update", text_md=seed_paragraphs()[1], by=EDITOR)
    dict(delivered_follow_up(flow, update.id, server))
    login(client)
    html = client.get(f"/editor/mailings/{sent}").get_data(as_text=True)
    link = f'Nachträge: <a href="/editor/mailings/{update.id}">Nr. {update.id}</a>'
    assert html.count(link) == len(REACHED) + 2  # every delivered copy, none for the refused
