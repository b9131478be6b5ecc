"""The subscriber page: an admin sends a pending sign-up's confirmation again with one
button (rate limited, said in German); an editor sees no button and is refused."""

from __future__ import annotations

from html import unescape

import pytest
from flask.testing import FlaskClient

from pipeline.access import Role
from pipeline.accounts import Accounts
from pipeline.audience import Signup, subscriber_id
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.signup import sign_up
from pipeline.store import Store
from pipeline.store import system_mail as db
from tests.support.web import EDITOR, SECRET, csrf_from, login

PERSON = "k.brandt@stadtanzeiger.example"
PASSWORD = "ein-langes-passwort-fuer-die-redaktion"


@pytest.fixture
def pending(settings: Settings, store: Store, clock: FakeClock) -> int:
    sign_up(
        settings,
        store,
        Signup(email=PERSON, list_name="press", ip="192.0.2.7", source="test"),
        clock=clock,
        secret=SECRET,
    )
    found = subscriber_id(store, PERSON)
    assert found is not None
    return found


def _resend(client: FlaskClient, ident: int) -> str:
    page = client.get(f"/editor/subscribers/{ident}").get_data(as_text=True)
    answer = client.post(
        f"/editor/subscribers/{ident}/resend-confirmation",
        data={"csrf_token": csrf_from(page), "list": "press"},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    return unescape(answer.get_data(as_text=True))


def _confirmations(store: Store) -> int:
    return sum(1 for m in db.list_mail(store) if m.kind == "confirmation")


def test_an_admin_resends_from_the_subscriber_page_once_an_hour(
    client: FlaskClient, store: Store, clock: FakeClock, pending: int
) -> None:
    assert login(client).status_code == 303  # the env log-in is the first admin
    page = unescape(client.get(f"/editor/subscribers/{pending}").get_data(as_text=True))
    assert "Presseverteiler: pending" in page and "Bestätigung erneut senden" in page
    page = _resend(client, pending)
    assert "vor weniger als 60 Minuten" in page and _confirmations(store) == 1
    clock.advance(hours=1)
    page = _resend(client, pending)
    assert f"Die Bestätigung an {PERSON} für press ist unterwegs." in page
    assert _confirmations(store) == 2


def test_an_editor_sees_no_button_and_is_refused(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock, pending: int
) -> None:
    service = Accounts(store, settings, clock)
    service.add(
        service.actor_for(EDITOR), "anna@junge-buergermeister.example", Role.EDITOR, PASSWORD
    )
    assert login(client, "anna@junge-buergermeister.example", PASSWORD).status_code == 303
    page = unescape(client.get(f"/editor/subscribers/{pending}").get_data(as_text=True))
    assert "Bestätigung erneut senden" not in page
    clock.advance(hours=1)
    page = _resend(client, pending)
    assert "Listen verwalten braucht die Rolle Administration" in page
    assert _confirmations(store) == 1
