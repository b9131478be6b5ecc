"""From approved to sent in the browser: the confirmation page, "Jetzt senden" (handed to
the daemon, never sent in the request), a send time, pause and resume, the archive link."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from pipeline import audit
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver.smtp import SmtpTransport
from pipeline.models import MailingKind, MailingStatus
from pipeline.schedule import jobs
from pipeline.store import Store
from pipeline.store import mailings as store_mailings
from pipeline.store.schema import deliveries
from tests.deliver.support import add_subscribers
from tests.support import mailings as mailing_ops
from tests.support.settings import make_settings
from tests.support.smtp import SmtpServer
from tests.support.web import csrf_from, login, make_app, seed_mailing, set_editor_env

S = MailingStatus
OPERATOR = "betrieb@junge-buergermeister.example"


def _post(client: FlaskClient, mailing_id: int, action: str, **data: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/editor/mailings/{mailing_id}/send").get_data(as_text=True)
    return client.post(
        f"/editor/mailings/{mailing_id}/{action}", data={**data, "csrf_token": csrf_from(page)}
    )


def _approve(client: FlaskClient, store: Store, mailing_id: int) -> None:
    page = client.get(f"/editor/mailings/{mailing_id}").get_data(as_text=True)
    version = store_mailings.get_mailing(store, mailing_id).updated_at.isoformat()
    response = client.post(
        f"/editor/mailings/{mailing_id}/approve",
        data={"csrf_token": csrf_from(page), "version": version},
    )
    assert response.status_code == 303
    assert store_mailings.get_mailing(store, mailing_id).status == S.APPROVED


def _subscribers_reached(server: SmtpServer) -> list[str]:
    """Every recipient of the mailing, once per message (the operator's notices aside)."""
    return sorted(r for r in server.sink.recipients() if r != OPERATOR)


def _deliveries(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(deliveries)).scalar_one())


def test_the_confirmation_names_lists_segment_recipients_and_choices(
    client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    add_subscribers(store, clock, 3)
    mailing = seed_mailing(store, clock)
    login(client)
    page = client.get(f"/editor/mailings/{mailing.id}/send").get_data(as_text=True)
    assert '<dd id="send-lists">Mitglieder-Newsletter</dd>' in page
    assert '<dd id="send-recipients">3 (Stand jetzt)</dd>' in page
    assert "keins (alle auf den Listen)" in page
    assert "Ja, jetzt an 3 Empfänger senden" in page
    assert 'type="datetime-local"' in page and 'min="2026-06-19T10:00"' in page
    mailing_page = client.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    assert f'href="/editor/mailings/{mailing.id}/send"' in mailing_page


def test_send_now_hands_over_to_the_daemon_and_sends_nothing_in_the_request(
    client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    add_subscribers(store, clock, 3)
    mailing = seed_mailing(store, clock)
    login(client)
    _approve(client, store, mailing.id)
    response = _post(client, mailing.id, "send", choice="now", confirm="yes")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/editor/mailings/{mailing.id}")
    after = store_mailings.get_mailing(store, mailing.id)
    assert after.status == S.SCHEDULED and after.send_at == clock.now()
    assert after.approved_by is not None  # the approval stands
    assert _deliveries(store) == 0  # the daemon sends, not the request
    entries = audit.entries(store, mailing=mailing.id)
    assert any("to the sending service to go out now" in e.summary for e in entries)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "wird innerhalb einer Minute versendet" in page
    assert '<span id="next-step">Wird innerhalb einer Minute versendet.</span>' in page
    assert '<meta http-equiv="refresh" content="5">' in page  # until the progress shows
    # a second click changes nothing
    again = _post(client, mailing.id, "send", choice="now", confirm="yes")
    assert again.status_code == 303
    assert store_mailings.get_mailing(store, mailing.id) == after


def test_send_now_of_a_draft_is_refused_with_the_reason(
    client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    login(client)
    response = _post(client, mailing.id, "send", choice="now", confirm="yes")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="send-error"' in page and "Nicht versendet:" in page
    assert store_mailings.get_mailing(store, mailing.id).status == S.DRAFT


def test_without_the_checkbox_nothing_happens(
    client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    login(client)
    _approve(client, store, mailing.id)
    response = _post(client, mailing.id, "send", choice="later", when="2026-06-20T10:00")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Bitte bestätigen Sie den Versand mit dem Häkchen." in page
    assert 'value="2026-06-20T10:00"' in page
    assert store_mailings.get_mailing(store, mailing.id).status == S.APPROVED


def test_a_time_in_the_past_is_refused_and_the_typed_time_stays(
    client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    login(client)
    response = _post(
        client, mailing.id, "send", choice="later", when="2026-06-18T09:00", confirm="yes"
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nicht versendet:" in page
    assert 'value="2026-06-18T09:00"' in page
    after = store_mailings.get_mailing(store, mailing.id)
    assert after.status == S.DRAFT and after.send_at is None


def test_a_send_time_approves_and_schedules_in_the_organisations_zone(
    client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    login(client)
    response = _post(
        client, mailing.id, "send", choice="later", when="2026-06-20T10:00", confirm="yes"
    )
    assert response.status_code == 303
    after = store_mailings.get_mailing(store, mailing.id)
    assert after.status == S.SCHEDULED
    assert after.send_at == datetime(2026, 6, 20, 8, 0, tzinfo=UTC)  # 10:00 in Berlin
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "wird am 20.06.2026, 10:00 versendet" in page
    assert "Geht am 20.06.2026, 10:00 raus." in page


def test_pause_needs_a_reason_and_resume_hands_back_without_sending(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    mailing_ops.render_mailing(settings, store, mailing.id, clock=clock)
    mailing_ops.approve(store, mailing.id, clock=clock, by="redaktion")
    mailing_ops.set_status(store, mailing.id, S.SENDING, clock=clock)
    login(client)
    page = client.get(f"/editor/mailings/{mailing.id}/send").get_data(as_text=True)
    assert "Ja, den Versand anhalten" in page and "Jetzt senden" not in page

    refused = _post(client, mailing.id, "pause", reason="", confirm="yes")
    assert refused.status_code == 422
    assert "Bitte nennen Sie einen Grund" in refused.get_data(as_text=True)
    assert store_mailings.get_mailing(store, mailing.id).status == S.SENDING

    paused = _post(client, mailing.id, "pause", reason="Falscher Link im Text", confirm="yes")
    assert paused.status_code == 303
    after = store_mailings.get_mailing(store, mailing.id)
    assert after.status == S.PAUSED and after.paused_reason == "Falscher Link im Text"
    page = client.get(f"/editor/mailings/{mailing.id}/send").get_data(as_text=True)
    assert "Ja, den Versand fortsetzen" in page and "Falscher Link im Text" in page

    resumed = _post(client, mailing.id, "resume", confirm="yes")
    assert resumed.status_code == 303
    assert store_mailings.get_mailing(store, mailing.id).status == S.SENDING
    assert _deliveries(store) == 0
    summaries = [e.summary for e in audit.entries(store, mailing=mailing.id)]
    assert any("handed back to the sending service" in s for s in summaries)
    assert any("paused" in s and "Falscher Link im Text" in s for s in summaries)


def test_an_approved_press_release_waits_for_a_send_decision(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    """Approving alone no longer sends a press release without a send time (before, the
    daemon's next look sent it within a minute): the facts say what happens next."""
    add_subscribers(store, clock, 2, lists=("press",), prefix="redaktion")
    press = seed_mailing(store, clock, kind=MailingKind.PRESS, lists=["press"])
    login(client)
    _approve(client, store, press.id)
    page = client.get(f"/editor/mailings/{press.id}").get_data(as_text=True)
    assert "Geht erst raus, wenn jemand „Jetzt senden“ wählt" in page
    result = jobs.catch_up(jobs.JobContext(settings=settings, store=store, clock=clock))
    assert f"press {press.id}" not in result.detail
    assert store_mailings.get_mailing(store, press.id).status == S.APPROVED
    assert _deliveries(store) == 0


def test_a_sent_mailing_links_to_its_archive_copy(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    mailing_ops.render_mailing(settings, store, mailing.id, clock=clock)
    mailing_ops.approve(store, mailing.id, clock=clock, by="redaktion")
    mailing_ops.set_status(store, mailing.id, S.SENDING, clock=clock)
    login(client)
    page = client.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    assert 'id="archive-link"' not in page
    mailing_ops.set_status(store, mailing.id, S.SENT, clock=clock)
    page = client.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    found = re.search(r'<a id="archive-link" href="([^"]+)"', page)
    assert found is not None and found.group(1) == f"/archive/{mailing.id}"
    assert client.get(found.group(1)).status_code == 200


def test_send_now_is_sent_by_the_daemon_once_per_recipient(
    tmp_path: Path,
    smtp_server: SmtpServer,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings(
        tmp_path,
        delivery={"transport": "smtp", "per_second": 10_000},
        smtp={"host": smtp_server.host, "port": smtp_server.port, "connections": 1},
    )
    store = Store.open(settings.database_url())
    try:
        set_editor_env(monkeypatch, settings)
        app = make_app(settings, store, clock)
        emails = add_subscribers(store, clock, 4)
        mailing = seed_mailing(store, clock)
        with app.test_client() as client:
            login(client)
            _approve(client, store, mailing.id)
            assert _post(client, mailing.id, "send", choice="now", confirm="yes").status_code == 303
        assert smtp_server.sink.recipients() == []
        ctx = jobs.JobContext(
            settings=settings,
            store=store,
            clock=clock,
            transport_factory=lambda: SmtpTransport(
                host=smtp_server.host, port=smtp_server.port, connections=1
            ),
        )
        clock.advance(seconds=30)
        result = jobs.sync_job(ctx)
        assert f"newsletter {mailing.id}" in result.detail, result
        assert store_mailings.get_mailing(store, mailing.id).status == S.SENT
        assert _subscribers_reached(smtp_server) == sorted(emails)
        clock.advance(seconds=60)
        jobs.sync_job(ctx)  # a second look sends nobody a second copy
        assert _subscribers_reached(smtp_server) == sorted(emails)
    finally:
        store.close()
