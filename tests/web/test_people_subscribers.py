"""The subscribers list: search by address or name, filter by status and list, pages."""

from __future__ import annotations

from html import unescape

from flask.testing import FlaskClient

from pipeline.audience import Signup
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.signup import sign_up
from pipeline.store import Store
from tests.support.web import SECRET, login


def _sign_up(settings: Settings, store: Store, clock: FakeClock, email: str) -> None:
    sign_up(
        settings,
        store,
        Signup(email=email, list_name="press", ip="192.0.2.7", source="test"),
        clock=clock,
        secret=SECRET,
    )


def test_search_finds_by_address_and_filters_by_status(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    _sign_up(settings, store, clock, "k.brandt@stadtanzeiger.example")
    _sign_up(settings, store, clock, "m.huber@kurier.example")
    assert login(client).status_code == 303
    page = unescape(client.get("/editor/subscribers").get_data(as_text=True))
    assert "k.brandt@stadtanzeiger.example" in page and "m.huber@kurier.example" in page
    page = unescape(client.get("/editor/subscribers?q=BRANDT").get_data(as_text=True))
    assert "k.brandt@stadtanzeiger.example" in page and "m.huber" not in page
    assert "press (pending)" in page
    page = unescape(client.get("/editor/subscribers?status=active").get_data(as_text=True))
    assert "Keine Abonnenten gefunden." in page
    page = unescape(client.get("/editor/subscribers?list=press&after=x").get_data(as_text=True))
    assert "m.huber@kurier.example" in page


def test_the_list_needs_a_log_in(client: FlaskClient) -> None:
    answer = client.get("/editor/subscribers")
    assert answer.status_code in (302, 303, 401)


def test_the_lists_page_counts_by_status(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    _sign_up(settings, store, clock, "k.brandt@stadtanzeiger.example")
    assert login(client).status_code == 303
    answer = client.get("/editor/lists")
    page = unescape(answer.get_data(as_text=True))
    assert answer.status_code == 200
    assert 'data-status="pending">1<' in page and 'data-status="active">0<' in page


def test_the_signups_page_lists_pending_sign_ups_with_a_resend_button(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    _sign_up(settings, store, clock, "k.brandt@stadtanzeiger.example")
    assert login(client).status_code == 303
    answer = client.get("/editor/signups")
    page = unescape(answer.get_data(as_text=True))
    assert answer.status_code == 200
    assert "k.brandt@stadtanzeiger.example" in page and "Bestätigung erneut senden" in page
    assert 'name="csrf_token"' in page


def test_export_downloads_the_persons_json_document_and_needs_csrf(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    from pipeline.audience import subscriber_id
    from tests.support.web import csrf_from

    _sign_up(settings, store, clock, "k.brandt@stadtanzeiger.example")
    ident = subscriber_id(store, "k.brandt@stadtanzeiger.example")
    assert login(client).status_code == 303
    page = client.get(f"/editor/subscribers/{ident}").get_data(as_text=True)
    assert client.post(f"/editor/subscribers/{ident}/export").status_code in (400, 403)
    answer = client.post(
        f"/editor/subscribers/{ident}/export", data={"csrf_token": csrf_from(page)}
    )
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert "attachment" in answer.headers["Content-Disposition"]
    assert "k.brandt@stadtanzeiger.example" in answer.get_data(as_text=True)
    token = {"csrf_token": csrf_from(page)}
    assert client.post("/editor/subscribers/999999/export", data=token).status_code == 404


def test_resend_confirmation_without_the_csrf_token_is_refused(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    from pipeline.audience import subscriber_id

    _sign_up(settings, store, clock, "k.brandt@stadtanzeiger.example")
    ident = subscriber_id(store, "k.brandt@stadtanzeiger.example")
    assert login(client).status_code == 303
    answer = client.post(f"/editor/subscribers/{ident}/resend-confirmation", data={"list": "press"})
    assert answer.status_code in (400, 403)
