"""The send time and the Sperrfrist through the API (issue 13): `send_at` and `embargo`
on compose and edit, refused against the rule with the field named, times answered in
the organisation's zone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.clock import FakeClock
from pipeline.store import Store
from tests.api.conftest import BERT, Call
from tests.support.mail_items import add_item


@pytest.fixture
def item(store: Store, clock: FakeClock) -> int:
    return add_item(
        store,
        title="Junge Bürgermeister*innen fordern ein Investitionsprogramm",
        kind="press_release",
        published_at=clock.now() - timedelta(hours=1),
    )


def test_compose_with_send_time_and_embargo_answers_local_times(call: Call, item: int) -> None:
    made = call(
        "POST",
        "/mailings/press",
        json={
            "item_id": item,
            "send_at": "2026-06-20T06:00:00Z",
            "embargo": "2026-06-20T10:00:00+02:00",
        },
    )
    assert made.status_code == 201, made.get_json()
    data = made.get_json()["data"]
    assert data["send_at"] == "2026-06-20T08:00:00+02:00"  # 06:00 UTC, in Berlin
    assert data["embargo"] == "2026-06-20T10:00:00+02:00"
    assert "embargo_at" not in data


def test_an_embargo_before_the_send_time_or_in_the_past_is_a_422_naming_the_field(
    call: Call, item: int
) -> None:
    before = call(
        "POST",
        "/mailings/press",
        json={
            "item_id": item,
            "send_at": "2026-06-20T12:00:00+02:00",
            "embargo": "2026-06-20T10:00:00+02:00",
        },
    )
    assert before.status_code == 422
    error = before.get_json()["error"]
    assert (error["code"], error["field"]) == ("invalid", "embargo")
    assert "2026-06-20 10:00 is before the send time 2026-06-20 12:00" in error["message"]
    past = call(
        "POST", "/mailings/press", json={"item_id": item, "send_at": "2026-06-19T09:59:00+02:00"}
    )
    assert past.status_code == 422 and past.get_json()["error"]["field"] == "send_at"


def test_edit_moves_and_clears_the_embargo_and_approval_sends_at_once(
    call: Call, item: int
) -> None:
    made = call(
        "POST", "/mailings/press", json={"item_id": item, "embargo": "2026-06-20T10:00:00+02:00"}
    ).get_json()["data"]
    path = f"/mailings/{made['id']}"
    later = call("PATCH", path, json={"embargo": "2026-06-21T09:00:00+02:00"})
    assert later.status_code == 200 and later.get_json()["data"]["embargo"].startswith(
        "2026-06-21T09:00"
    )
    wrong = call("PATCH", path, json={"send_at": "2026-06-22T09:00:00+02:00"})
    assert wrong.status_code == 422 and wrong.get_json()["error"]["field"] == "embargo"
    approved = call("POST", f"{path}/approve", as_=BERT).get_json()["data"]
    assert approved["status"] == "approved"  # goes out now, before its embargo
    cleared = call("PATCH", path, json={"embargo": None})
    assert cleared.status_code == 200 and cleared.get_json()["data"]["embargo"] is None
