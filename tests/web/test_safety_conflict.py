"""A save over a newer version keeps the typed text and shows what is saved now."""

from __future__ import annotations

from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.store import Store
from pipeline.store import mailings as store_mailings
from tests.support import mailings as mailing_ops
from tests.support.web import csrf_from, login, seed_mailing


def _version(store: Store, mailing_id: int) -> str:
    return store_mailings.get_mailing(store, mailing_id).updated_at.isoformat()


def test_conflict_keeps_the_typed_text(client: FlaskClient, store: Store, clock: FakeClock) -> None:
    login(client)
    mailing = seed_mailing(store, clock)
    page = client.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    old_version = _version(store, mailing.id)
    clock.advance(60)
    mailing_ops.edit_mailing(store, mailing.id, clock=clock, subject="Von jemand anderem")
    form = {
        "csrf_token": csrf_from(page),
        "version": old_version,
        "subject": "Mein Betreff",
        "intro": "Mein langer Text, getippt.",
        "preheader": "",
    }
    response = client.post(f"/editor/mailings/{mailing.id}/content", data=form)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Mein langer Text, getippt." in html
    assert 'value="Mein Betreff"' in html
    assert "Von jemand anderem" in html  # what is saved now
    assert store_mailings.get_mailing(store, mailing.id).subject == "Von jemand anderem"
    # saving again, deliberately, carries the new version and goes through
    new_version = _version(store, mailing.id)
    assert f'value="{new_version}"' in html
    again = client.post(
        f"/editor/mailings/{mailing.id}/content",
        data={**form, "version": new_version, "csrf_token": csrf_from(html)},
    )
    assert again.status_code == 303
    assert store_mailings.get_mailing(store, mailing.id).subject == "Mein Betreff"


def test_double_save_is_a_notice(client: FlaskClient, store: Store, clock: FakeClock) -> None:
    login(client)
    mailing = seed_mailing(store, clock)
    page = client.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    form = {
        "csrf_token": csrf_from(page),
        "version": _version(store, mailing.id),
        "subject": "Zweimal geklickt",
        "intro": "Text",
        "preheader": "",
    }
    clock.advance(60)
    first = client.post(f"/editor/mailings/{mailing.id}/content", data=form)
    assert first.status_code == 303
    clock.advance(2)
    second = client.post(f"/editor/mailings/{mailing.id}/content", data=form)
    assert second.status_code == 303
    shown = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "Schon gespeichert" in shown
