"""The leave-page warning's script is allowed only where a form asks for it: an editor
page with such a form gets ``script-src 'self'``, every other page no script at all."""

from __future__ import annotations

from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.store import Store
from pipeline.web import DEFAULT_CSP
from tests.support.web import csrf_from, login, seed_mailing

SCRIPT = '<script src="/assets/unsaved.js" defer></script>'


def test_an_editor_form_page_may_load_our_script_and_only_ours(
    client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    login(client)
    answer = client.get(f"/editor/mailings/{mailing.id}")
    html = answer.get_data(as_text=True)
    policy = answer.headers["Content-Security-Policy"]
    assert policy == f"{DEFAULT_CSP}; script-src 'self'"
    assert "default-src 'none'" in policy and "'unsafe-inline'" not in policy
    assert SCRIPT in html
    assert "data-unsaved-warning" in html and 'data-unsaved-warning="dirty"' not in html
    script = client.get("/assets/unsaved.js")
    assert script.status_code == 200
    assert "beforeunload" in script.get_data(as_text=True)


def test_pages_without_such_a_form_allow_no_script(
    client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    seed_mailing(store, clock)
    public = client.get("/archive")
    assert public.status_code == 200
    assert public.headers["Content-Security-Policy"] == DEFAULT_CSP
    assert "script-src" not in public.headers["Content-Security-Policy"]
    assert "<script" not in public.get_data(as_text=True)
    login(client)
    listing = client.get("/editor/mailings")
    assert listing.headers["Content-Security-Policy"] == DEFAULT_CSP
    assert "<script" not in listing.get_data(as_text=True)


def test_a_form_holding_unsaved_text_is_marked_dirty(
    client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    login(client)
    page = client.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    clock.advance(60)
    stale = client.post(
        f"/editor/mailings/{mailing.id}/content",
        data={
            "csrf_token": csrf_from(page),
            "version": "2000-01-01T00:00:00+00:00",  # someone saved in between
            "subject": "Meine Fassung",
            "intro": "Mein Text",
        },
    )
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert 'data-unsaved-warning="dirty"' in html
    assert "script-src 'self'" in stale.headers["Content-Security-Policy"]
