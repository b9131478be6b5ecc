"""Issue 13, item 2 in the API: ``POST /api/v1/mailings/{id}/followups`` composes a
follow-up of a sent press release; refusals are 422 naming the field; the distribution
record of the original names the follow-ups each recipient got."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Workflow
from pipeline.store import Store
from tests.api.conftest import ANNA, BERT, Call
from tests.support.followups import REACHED, change_the_list, refusing_sink, send, send_original
from tests.support.mail_items import seed_paragraphs
from tests.support.smtp import SmtpServer


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    server = SmtpServer(refusing_sink()).start()
    yield server
    server.stop()


@pytest.fixture
def sent(
    settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    call: Call,  # the app and its accounts first: the release is sent from the same store
) -> int:
    original = send_original(settings, store, clock, tmp_path, server)
    change_the_list(settings, store, clock, tmp_path)
    return original.mailing_id


def test_compose_approve_send_and_the_record_names_the_follow_up(
    call: Call, sent: int, settings: Settings, store: Store, clock: FakeClock, server: SmtpServer
) -> None:
    text = "Richtig ist: " + seed_paragraphs()[2][:200]
    made = call(
        "POST", f"/mailings/{sent}/followups", json={"kind": "correction", "text": text}, as_=ANNA
    )
    assert made.status_code == 201, made.get_json()
    data = made.get_json()["data"]
    assert (data["follows_id"], data["follow_kind"], data["kind"]) == (sent, "correction", "press")
    assert data["lists"] == ["press"]
    shown = call("GET", f"/mailings/{data['id']}").get_json()
    assert shown["overview"]["recipients"] == len(REACHED)
    # the four-eyes rule: the editor who wrote it cannot approve; a second person does
    approved = call("POST", f"/mailings/{data['id']}/approve", as_=BERT)
    assert approved.status_code == 200, approved.get_json()
    send(Workflow(settings, store, clock), data["id"], server)
    listed = call("GET", f"/mailings/{sent}/followups").get_json()["data"]
    assert [(m["id"], m["status"]) for m in listed] == [(data["id"], "sent")]
    record = call("GET", f"/mailings/{sent}/record").get_json()["data"]
    got = {e["email"]: e["follow_ups"] for e in record}
    assert {a for a, f in got.items() if f == [data["id"]]} == set(REACHED)


def test_refusals_are_422_naming_the_field(
    call: Call, sent: int, store: Store, clock: FakeClock, press_item: int
) -> None:
    def refused(mailing_id: int, body: dict[str, object]) -> dict[str, str]:
        answer = call("POST", f"/mailings/{mailing_id}/followups", json=body)
        assert answer.status_code == 422, answer.get_json()
        return answer.get_json()["error"]  # type: ignore[no-any-return]

    assert refused(sent, {"kind": "lift"})["field"] == "kind"
    assert refused(sent, {"kind": "correction"})["field"] == "text"
    assert refused(sent, {"kind": "nonsense"})["field"] == "kind"
    assert refused(sent, {})["field"] == "kind"
    assert refused(sent, {"kind": "update", "text": "x", "lists": ["members"]})["field"] == "lists"
    draft = call("POST", "/mailings/press", json={"item_id": press_item}).get_json()["data"]
    error = refused(draft["id"], {"kind": "correction", "text": "Richtig ist …"})
    assert error["field"] == "original" and "not delivered to anyone yet" in error["message"]
    past = (clock.now() - timedelta(hours=1)).isoformat()
    assert refused(sent, {"kind": "withdraw", "send_at": past})["field"] == "send_at"
    assert call("POST", "/mailings/9999/followups", json={"kind": "lift"}).status_code == 404
