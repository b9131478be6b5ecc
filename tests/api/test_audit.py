"""The audit log through the API (``GET /audit``, filtered and in cursor pages, as
``rundbrief audit`` shows it) and pausing a sending mailing (``POST …/pause``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pipeline.clock import FakeClock
from pipeline.models import MailingStatus
from pipeline.store import Store
from tests.api.conftest import ANNA, BERT, DORA, Call
from tests.support.mailings import set_status


def _newsletter(call: Call) -> int:
    answer = call("POST", "/mailings/newsletter", as_=ANNA)
    assert answer.status_code == 201, answer.get_json()
    return int(answer.get_json()["data"]["id"])


def _work(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(action, who) of the entries after the fixture's accounts and tokens."""
    return [
        (e["action"], e["actor"]["email"])
        for e in entries
        if not e["action"].startswith("account_")
    ]


def test_the_log_of_a_mailing_by_each_role(call: Call, news_items: list[int]) -> None:
    mailing_id = _newsletter(call)
    call("PATCH", f"/mailings/{mailing_id}", as_=BERT, json={"preheader": "Kurz"})
    call("POST", f"/mailings/{mailing_id}/approve", as_=BERT)
    for who in (ANNA, BERT, DORA):  # looking: every role
        answer = call("GET", f"/audit?mailing={mailing_id}", as_=who)
        assert answer.status_code == 200, answer.get_json()
        data = answer.get_json()["data"]
        assert _work(data) == [("compose", ANNA), ("edit", BERT), ("approve", BERT)]
    first = data[0]
    assert first["target"] == {"kind": "mailing", "id": str(mailing_id)}
    assert (first["channel"], first["address"]) == ("api", "127.0.0.1")
    assert "preheader" in data[1]["summary"]


def test_filters_pages_and_bad_values(call: Call, news_items: list[int], clock: FakeClock) -> None:
    mailing_id = _newsletter(call)
    clock.advance(hours=1)
    cutoff = clock.now()
    for n in range(4):
        call("PATCH", f"/mailings/{mailing_id}", as_=BERT, json={"preheader": f"Fassung {n}"})
    by_bert = call("GET", f"/audit?user={BERT.upper()}").get_json()["data"]
    assert [e["action"] for e in by_bert] == ["edit"] * 4
    since = quote(cutoff.isoformat())
    assert len(call("GET", f"/audit?since={since}").get_json()["data"]) == 4
    unencoded = cutoff.isoformat().replace("+", " ")  # a "+" a caller forgot to encode
    assert len(call("GET", f"/audit?since={unencoded}").get_json()["data"]) == 4
    # pages of two, oldest first, no entry twice or lost
    seen: list[int] = []
    cursor = ""
    while True:
        page = call("GET", f"/audit?user={BERT}&limit=2" + (f"&cursor={cursor}" if cursor else ""))
        body = page.get_json()
        seen += [e["id"] for e in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [e["id"] for e in by_bert]
    for query, field in (
        ("mailing=zwölf", "mailing"),
        ("since=gestern", "since"),
        ("since=2026-06-01T10:00", "since"),
        ("limit=0", "limit"),
        ("cursor=%%%", "cursor"),
    ):
        bad = call("GET", f"/audit?{query}")
        assert bad.status_code == 422, query
        assert bad.get_json()["error"]["field"] == field


def test_pause_by_role_and_state(
    call: Call, news_items: list[int], store: Store, clock: FakeClock
) -> None:
    mailing_id = _newsletter(call)
    draft = call("POST", f"/mailings/{mailing_id}/pause", as_=BERT, json={"reason": "Fehler"})
    assert (draft.status_code, draft.get_json()["error"]["code"]) == (409, "conflict")
    call("POST", f"/mailings/{mailing_id}/approve", as_=BERT)
    set_status(store, mailing_id, MailingStatus.SENDING, clock=clock)
    refused = call("POST", f"/mailings/{mailing_id}/pause", as_=ANNA, json={"reason": "x"})
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (403, "forbidden")
    missing = call("POST", f"/mailings/{mailing_id}/pause", as_=BERT, json={})
    assert (missing.status_code, missing.get_json()["error"]["field"]) == (422, "reason")
    clock.advance(minutes=1)
    paused = call(
        "POST", f"/mailings/{mailing_id}/pause", as_=BERT, json={"reason": "Tippfehler im Betreff"}
    )
    assert paused.status_code == 200, paused.get_json()
    data = paused.get_json()["data"]
    assert (data["status"], data["paused_reason"]) == ("paused", "Tippfehler im Betreff")
    log = call("GET", f"/audit?mailing={mailing_id}&since={quote(clock.now().isoformat())}")
    assert _work(log.get_json()["data"]) == [("pause", BERT)]
