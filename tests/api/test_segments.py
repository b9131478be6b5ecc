"""The API composes to a segment (``segment`` or ``where``) and says whom it reaches."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from tests.api.conftest import Call
from tests.mailings.test_segment_send import BAYERN
from tests.support.press_app import press_contacts_app
from tests.support.settings import make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, segments={"bayern": BAYERN})


@pytest.fixture
def app(
    settings: Settings,
    store: Store,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Flask:
    return press_contacts_app(settings, store, clock, monkeypatch, tmp_path)


def test_press_to_a_named_segment_and_to_a_condition(call: Call, press_item: int) -> None:
    made = call("POST", "/mailings/press", json={"item_id": press_item, "segment": "bayern"})
    assert made.status_code == 201, made.get_json()
    data = made.get_json()["data"]
    assert (data["segment_name"], data["segment_where"]) == ("bayern", BAYERN)
    shown = call("GET", f"/mailings/{data['id']}").get_json()["overview"]
    assert shown["recipients"] == 2
    call("POST", f"/mailings/{data['id']}/cancel")

    written = call(
        "POST",
        "/mailings/press",
        json={
            "title": "Bürgermeisterinnen fordern Investitionsprogramm",
            "text": "Die Kommunen brauchen Planungssicherheit.",
            "where": 'outlet = "Landesfunk"',
        },
    )
    assert written.status_code == 201, written.get_json()
    again = call("GET", f"/mailings/{written.get_json()['data']['id']}").get_json()
    assert again["data"]["segment_where"] == 'outlet = "Landesfunk"'
    assert again["overview"]["recipients"] == 2


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"segment": "berlin"}, "segment", "unknown segment 'berlin'"),
        ({"where": 'region = "Bayern" or'}, "where", "column 21: expected a field name"),
        ({"where": "'; DROP TABLE subscribers; --"}, "where", "column 1: the string is not closed"),
        ({"where": 7}, "where", "where must be a string"),
    ],
)
def test_a_bad_segment_is_422_naming_the_field(
    call: Call, press_item: int, body: dict[str, object], field: str, says: str
) -> None:
    answer = call("POST", "/mailings/press", json={"item_id": press_item, **body})
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert error["field"] == field and says in error["message"]
    assert call("GET", "/mailings").get_json()["data"] == []


def test_a_newsletter_to_a_segment(call: Call, news_items: list[int]) -> None:
    made = call("POST", "/mailings/newsletter", json={"where": 'language = "de"'})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["data"]["segment_where"] == 'language = "de"'


def test_edit_replaces_and_clears_the_segment(call: Call, press_item: int) -> None:
    made = call("POST", "/mailings/press", json={"item_id": press_item}).get_json()["data"]
    path = f"/mailings/{made['id']}"
    changed = call("PATCH", path, json={"segment": "bayern"})
    assert changed.status_code == 200, changed.get_json()
    assert call("GET", path).get_json()["overview"]["recipients"] == 2
    bad = call("PATCH", path, json={"where": "beat contains"})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "where"
    cleared = call("PATCH", path, json={"segment": None}).get_json()["data"]
    assert cleared["segment_where"] is None
    assert call("GET", path).get_json()["overview"]["recipients"] == 5
