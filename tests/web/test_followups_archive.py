"""Follow-ups in the public archive (issue 13, item 2): a lift makes the release public
from the moment it is sent (FakeClock), a withdrawal replaces the release's page by a
notice without its content, and the release's page lists its follow-ups, which link back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Workflow
from pipeline.store import Store
from tests.support.followups import TITLE, delivered_follow_up, refusing_sink, send_original
from tests.support.mail_items import seed_paragraphs
from tests.support.press_record import EDITOR
from tests.support.smtp import SmtpServer

EMBARGO = datetime(2026, 6, 20, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    server = SmtpServer(refusing_sink()).start()
    yield server
    server.stop()


def test_a_lift_makes_the_release_public_when_it_is_sent(
    client: FlaskClient,
    settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
) -> None:
    sent = send_original(settings, store, clock, tmp_path, server, embargo=EMBARGO)
    page = f"/archive/{sent.mailing_id}"
    assert client.get(page).status_code == 404  # under embargo
    flow = Workflow(settings, store, clock)
    lift = flow.compose_followup(sent.mailing_id, "lift", by=EDITOR)
    clock.advance(hours=3)
    assert client.get(page).status_code == 404  # composed, not sent: still under embargo
    dict(delivered_follow_up(flow, lift.id, server))
    shown = client.get(page)
    assert shown.status_code == 200  # from the lift's send instant, long before EMBARGO
    html = shown.get_data(as_text=True)
    assert "Nachträge zu dieser Pressemitteilung" in html
    assert (
        f'href="/archive/{lift.id}"' in html and "Sperrfrist aufgehoben vom 19. Juni 2026" in html
    )
    # the lift's own page links back to the original
    own = client.get(f"/archive/{lift.id}").get_data(as_text=True)
    assert f"{settings.web.base_url}/archive/{sent.mailing_id}" in own
    assert "Zur ursprünglichen Pressemitteilung" in own


def test_a_withdrawal_replaces_the_release_by_a_notice(
    client: FlaskClient,
    settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
) -> None:
    sent = send_original(settings, store, clock, tmp_path, server)
    page = f"/archive/{sent.mailing_id}"
    before = client.get(page).get_data(as_text=True)
    paragraph = seed_paragraphs()[0][:60]
    assert TITLE in before
    flow = Workflow(settings, store, clock)
    withdrawal = flow.compose_followup(sent.mailing_id, "withdraw", by=EDITOR)
    assert client.get(page).get_data(as_text=True) == before  # a draft changes nothing
    dict(delivered_follow_up(flow, withdrawal.id, server))
    after = client.get(page)
    assert after.status_code == 200
    html = after.get_data(as_text=True)
    assert "Diese Pressemitteilung wurde am 19. Juni 2026 zurückgezogen." in html
    assert f'href="/archive/{withdrawal.id}"' in html
    assert paragraph not in html and "Investitionsprogramm für Kommunen" not in html
    assert after.headers["Cache-Control"] == "no-store"


def test_the_archive_index_names_a_follow_up_by_its_kind(
    client: FlaskClient,
    settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
) -> None:
    sent = send_original(settings, store, clock, tmp_path, server)
    flow = Workflow(settings, store, clock)
    text = "Richtig ist: " + seed_paragraphs()[1][:120]
    correction = flow.compose_followup(sent.mailing_id, "correction", text_md=text, by=EDITOR)
    dict(delivered_follow_up(flow, correction.id, server))
    html = client.get("/archive").get_data(as_text=True)
    assert f'href="/archive/{correction.id}">Berichtigung: {TITLE}</a>' in html
    assert f'href="/archive/{sent.mailing_id}">{TITLE}</a>' in html


def test_the_public_api_shows_a_withdrawal_and_no_content(
    app: object,
    client: FlaskClient,
    settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
) -> None:
    sent = send_original(settings, store, clock, tmp_path, server)
    flow = Workflow(settings, store, clock)
    update = flow.compose_followup(
        sent.mailing_id, "update", text_md="Neu: " + seed_paragraphs()[2][:100], by=EDITOR
    )
    dict(delivered_follow_up(flow, update.id, server))
    shown = client.get(f"/api/v1/archive/{sent.mailing_id}").get_json()["data"]
    assert shown["follow_ups"] == [update.id] and shown["withdrawn"] is None
    assert shown["versions"] and shown["versions"][0]["subject"] == TITLE
    own = client.get(f"/api/v1/archive/{update.id}").get_json()["data"]
    assert (own["follows_id"], own["follow_kind"]) == (sent.mailing_id, "update")
    withdrawal = flow.compose_followup(sent.mailing_id, "withdraw", by=EDITOR)
    dict(delivered_follow_up(flow, withdrawal.id, server))
    gone = client.get(f"/api/v1/archive/{sent.mailing_id}")
    data = gone.get_json()["data"]
    assert data["withdrawn"]["by"] == withdrawal.id and data["versions"] == []
    assert TITLE in data["subject"] and "html" not in str(data)
    assert data["follow_ups"] == [update.id, withdrawal.id]
