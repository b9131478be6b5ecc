"""The item table keeps its place: an ↑/↓ press comes back at the moved row."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.store import Store
from pipeline.store import mailings as store_mailings
from tests.support.web import csrf_from, login, seed_mailing


@pytest.fixture
def editor(client: FlaskClient) -> FlaskClient:
    assert login(client).status_code == 303
    return client


def test_each_item_row_has_its_anchor(editor: FlaskClient, store: Store, clock: FakeClock) -> None:
    mailing = seed_mailing(store, clock, items=3)
    page = editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    for item_id in mailing.item_ids:
        assert f'id="item-{item_id}"' in page


def test_a_move_returns_to_the_moved_row(
    editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock, items=3)
    a, b, c = mailing.item_ids
    page = editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    response = editor.post(
        f"/editor/mailings/{mailing.id}/items",
        data={"csrf_token": csrf_from(page), "move": f"{c}:up"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/editor/mailings/{mailing.id}#item-{c}")
    assert store_mailings.get_mailing(store, mailing.id).item_ids == (a, c, b)


def test_a_move_without_csrf_changes_nothing(
    editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock, items=3)
    response = editor.post(
        f"/editor/mailings/{mailing.id}/items", data={"move": f"{mailing.item_ids[2]}:up"}
    )
    assert response.status_code in (400, 403)
    assert store_mailings.get_mailing(store, mailing.id).item_ids == mailing.item_ids
