"""/api/v1/segments (issue 13): list with counts, save, count a condition, delete; the
rules (names, config.toml not shadowed, the column of a bad condition) are the
workflow's, answered as 422 naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from pipeline.store import audit as store_audit
from tests.api.conftest import ANNA, BERT, Call
from tests.mailings.test_segment_send import BAYERN
from tests.support.press_app import press_contacts_app
from tests.support.settings import make_settings

LANDESFUNK = 'outlet = "Landesfunk"'


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


def test_save_list_and_delete(call: Call, store: Store, press_item: int) -> None:
    made = call("POST", "/segments", json={"name": "landesfunk", "expression": LANDESFUNK})
    assert made.status_code == 201, made.get_json()
    data = made.get_json()["data"]
    assert (data["source"], data["created_by"]) == ("saved", ANNA)
    assert data["count"]["lists"] == {"members": 0, "press": 2}
    assert data["created_at"].endswith("+02:00")  # the organisation's zone

    listed = call("GET", "/segments").get_json()["data"]
    assert [(s["name"], s["source"], s["count"]["total"]) for s in listed] == [
        ("bayern", "config", 2),
        ("landesfunk", "saved", 2),
    ]
    # a mailing composed through the API finds the saved name
    press = call("POST", "/mailings/press", json={"item_id": press_item, "segment": "landesfunk"})
    assert press.status_code == 201, press.get_json()
    assert press.get_json()["data"]["segment_where"] == LANDESFUNK

    gone = call("DELETE", "/segments/landesfunk", as_=BERT)
    assert gone.status_code == 200
    assert gone.get_json()["data"] == {"name": "landesfunk", "expression": LANDESFUNK}
    assert call("DELETE", "/segments/landesfunk").status_code == 404
    assert [s["name"] for s in call("GET", "/segments").get_json()["data"]] == ["bayern"]
    actions = [
        (e.actor_email, e.summary.split(":")[0])
        for e in store_audit.select_entries(store, targets=[("segment", "landesfunk")])
    ]
    assert actions == [(ANNA, "saved segment landesfunk"), (BERT, "deleted segment landesfunk")]


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"name": "bayern", "expression": LANDESFUNK}, "name", "config.toml"),
        ({"name": "../../etc", "expression": LANDESFUNK}, "name", "is not a letter"),
        ({"name": "ok", "expression": 'region = "Bayern" or'}, "expression", "column 21"),
        (
            {"name": "ok", "expression": "region = 'x' UNION SELECT email FROM subscribers"},
            "expression",
            "column 14",
        ),
        ({"name": "ok"}, "expression", "expression is required"),
        ({"name": 7, "expression": LANDESFUNK}, "name", "name must be a string"),
        ({"name": "ok", "expression": LANDESFUNK, "replace": "ja"}, "replace", "true or false"),
    ],
)
def test_refusals_are_422_naming_the_field(
    call: Call, body: dict[str, object], field: str, says: str
) -> None:
    answer = call("POST", "/segments", json=body)
    assert answer.status_code == 422, answer.get_json()
    error = answer.get_json()["error"]
    assert error["field"] == field and says in error["message"]
    assert [s["name"] for s in call("GET", "/segments").get_json()["data"]] == ["bayern"]


def test_a_config_segment_cannot_be_deleted(call: Call) -> None:
    answer = call("DELETE", "/segments/bayern")
    assert answer.status_code == 422 and "config.toml" in answer.get_json()["error"]["message"]


def test_taken_name_and_replace(call: Call) -> None:
    assert (
        call("POST", "/segments", json={"name": "funk", "expression": LANDESFUNK}).status_code
        == 201
    )
    again = call("POST", "/segments", json={"name": "funk", "expression": 'region = "Bayern"'})
    assert again.status_code == 422 and "saved already" in again.get_json()["error"]["message"]
    replaced = call(
        "POST",
        "/segments",
        json={"name": "funk", "expression": 'region = "Bayern"', "replace": True},
        as_=BERT,
    )
    assert replaced.status_code == 201
    assert replaced.get_json()["data"]["count"]["total"] == 3
    assert replaced.get_json()["data"]["updated_by"] == BERT


def test_count_a_condition(call: Call) -> None:
    counted = call("POST", "/segments/count", json={"expression": 'beat = "Digitales"'})
    assert counted.status_code == 200
    assert counted.get_json()["data"] == {
        "expression": 'beat = "Digitales"',
        "lists": {"members": 0, "press": 2},
        "total": 2,
        "unknown_attributes": [],
    }
    only = call(
        "POST", "/segments/count", json={"expression": 'bundesland = "Bayern"', "lists": ["press"]}
    ).get_json()["data"]
    assert only["lists"] == {"press": 0} and only["unknown_attributes"] == ["bundesland"]
    bad = call("POST", "/segments/count", json={"expression": 'beat in ["Digitales"'})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "expression"
    unknown_list = call(
        "POST", "/segments/count", json={"expression": LANDESFUNK, "lists": ["presse"]}
    )
    assert unknown_list.status_code == 422
    assert "unknown list 'presse'" in unknown_list.get_json()["error"]["message"]


def test_a_token_is_needed(client: FlaskClient) -> None:
    assert client.get("/api/v1/segments").status_code == 401
    assert client.post("/api/v1/segments/count", json={"expression": LANDESFUNK}).status_code == 401
