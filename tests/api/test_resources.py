"""The resources through the API: cursor pages, errors with a stable code, items and
mailing editing, subscribers search and import, lists and statistics, rate limits."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from tests.api.conftest import ANNA, BERT, DORA, Call
from tests.support.mail_items import add_items


def _error(answer: Any) -> dict[str, Any]:
    return answer.get_json()["error"]  # type: ignore[no-any-return]


def _import(call: Call, *addresses: str, who: str = ANNA) -> Any:
    body = "email,first_name,last_name\n" + "".join(f"{a},Max,Muster\n" for a in addresses)
    return call(
        "POST",
        "/subscribers/import?list=members",
        as_=who,
        data=body.encode(),
        content_type="text/csv",
    )


def test_items_are_paged_by_an_opaque_cursor_until_it_is_null(
    call: Call, store: Store, clock: FakeClock
) -> None:
    ids = add_items(store, clock.now(), 7)
    seen: list[int] = []
    cursor = ""
    pages = 0
    while True:
        answer = call("GET", f"/items?limit=3&cursor={cursor}", as_=ANNA).get_json()
        seen += [i["id"] for i in answer["data"]]
        pages += 1
        if answer["next_cursor"] is None:
            break
        cursor = answer["next_cursor"]
        # base64 of the last id seen
        assert base64.urlsafe_b64decode(cursor + "==").decode() == str(seen[-1])
    assert pages == 3
    assert seen == sorted(ids, reverse=True)


def test_mailings_are_paged_newest_first(call: Call, store: Store, clock: FakeClock) -> None:
    items = add_items(store, clock.now(), 3, kinds=("press_release",))
    made = [
        call("POST", "/mailings/press", json={"item_id": i}).get_json()["data"]["id"] for i in items
    ]
    first = call("GET", "/mailings?limit=2").get_json()
    assert [m["id"] for m in first["data"]] == sorted(made, reverse=True)[:2]
    second = call("GET", f"/mailings?limit=2&cursor={first['next_cursor']}").get_json()
    assert [m["id"] for m in second["data"]] == [min(made)]
    assert second["next_cursor"] is None
    only = call("GET", "/mailings?kind=press&status=draft&limit=50").get_json()
    assert len(only["data"]) == 3


def test_item_search_finds_every_word_in_title_or_summary(
    call: Call, store: Store, clock: FakeClock
) -> None:
    from tests.support.mail_items import add_item

    wanted = add_item(
        store,
        title="Glasfaser für Hofstetten",
        summary="Der Ausbau beginnt.",
        published_at=clock.now(),
    )
    add_item(
        store, title="Wärmeplanung", summary="Glasfaser kommt später.", published_at=clock.now()
    )
    found = call("GET", "/items?q=glasfaser%20AUSBAU").get_json()["data"]
    assert [i["id"] for i in found] == [wanted]
    assert call("GET", f"/items/{wanted}").get_json()["data"]["title"] == "Glasfaser für Hofstetten"


@pytest.mark.parametrize(
    ("path", "status", "code", "field"),
    [
        ("/items?cursor=%%%", 422, "invalid", "cursor"),
        ("/items?limit=0", 422, "invalid", "limit"),
        ("/items?kind=poem", 422, "invalid", "kind"),
        ("/items/999", 404, "not_found", None),
        ("/mailings/999", 404, "not_found", None),
        ("/nowhere", 404, "not_found", None),
        ("/subscribers/nobody@example.org", 404, "not_found", None),
    ],
)
def test_errors_have_a_stable_code(
    call: Call, path: str, status: int, code: str, field: str | None
) -> None:
    answer = call("GET", path)
    assert answer.status_code == status
    assert _error(answer)["code"] == code
    assert _error(answer).get("field") == field


def test_editing_errors_and_conflicts(call: Call, press_item: int, clock: FakeClock) -> None:
    press = call("POST", "/mailings/press", json={"item_id": press_item}).get_json()["data"]
    path = f"/mailings/{press['id']}"
    bad = call("PATCH", path, json={"subject": 5})
    assert (bad.status_code, _error(bad)["code"], _error(bad)["field"]) == (
        422,
        "invalid",
        "subject",
    )
    empty = call("PATCH", path, json={"subject": "  "})
    assert (empty.status_code, _error(empty)["code"]) == (422, "invalid")
    not_json = call("PATCH", path, data="subject", content_type="text/plain")
    assert (not_json.status_code, _error(not_json)["code"]) == (400, "bad_request")
    naive = call("PATCH", path, json={"send_at": "2026-07-01T09:00:00"})
    assert (_error(naive)["code"], _error(naive)["field"]) == ("invalid", "send_at")
    stale = call("PATCH", path, json={"subject": "Neu", "version": "2020-01-01T00:00:00+00:00"})
    assert (stale.status_code, _error(stale)["code"]) == (409, "conflict")
    assert call("POST", f"{path}/cancel", as_=BERT).status_code == 200
    again = call("POST", f"{path}/approve", as_=BERT)
    assert (again.status_code, _error(again)["code"]) == (409, "conflict")
    assert _error(again)["current"] == "cancelled"
    wrong = call("DELETE", path)
    assert (wrong.status_code, _error(wrong)["code"]) == (405, "method_not_allowed")
    unknown_item = call("POST", "/mailings/press", json={"item_id": 424242})
    assert (unknown_item.status_code, _error(unknown_item)["code"]) == (422, "invalid")


def test_items_of_a_mailing_are_added_moved_and_dropped(call: Call, news_items: list[int]) -> None:
    newsletter = call("POST", "/mailings/newsletter").get_json()["data"]
    path = f"/mailings/{newsletter['id']}"
    first, last = newsletter["item_ids"][0], newsletter["item_ids"][-1]
    dropped = call("DELETE", f"{path}/items/{last}")
    assert last not in dropped.get_json()["data"]["item_ids"]
    added = call("POST", f"{path}/items", json={"item_id": last, "position": 1})
    assert added.get_json()["data"]["item_ids"][0] == last
    moved = call("POST", f"{path}/items/{last}/move", json={"position": 2})
    assert moved.get_json()["data"]["item_ids"][:2] == [first, last]
    twice = call("POST", f"{path}/items", json={"item_id": last})
    assert (twice.status_code, _error(twice)["code"]) == (422, "invalid")
    shown = call("GET", path).get_json()
    assert [i["id"] for i in shown["overview"]["items"]] == moved.get_json()["data"]["item_ids"]
    assert shown["overview"]["deliveries"]["sent"] == 0
    nothing = call("POST", "/mailings/newsletter")
    assert (nothing.status_code, _error(nothing)["code"]) == (409, "nothing_to_compose")


def test_subscribers_search_show_and_lists_with_counts(call: Call) -> None:
    report = _import(call, "eva@example.org", "fritz@example.org", "gustav@beispiel.example")
    assert report.get_json()["data"]["created"] == 3
    found = call("GET", "/subscribers?q=example.org&limit=1").get_json()
    assert [s["email"] for s in found["data"]] == ["eva@example.org"]
    rest = call("GET", f"/subscribers?q=example.org&cursor={found['next_cursor']}").get_json()
    assert [s["email"] for s in rest["data"]] == ["fritz@example.org"]
    assert rest["next_cursor"] is None
    shown = call("GET", "/subscribers/eva@example.org").get_json()["data"]
    assert shown["subscriber"]["first_name"] == "Max"
    assert "deliveries" not in shown
    lists = {m["name"]: m["counts"] for m in call("GET", "/lists").get_json()["data"]}
    assert lists["members"] == {"active": 3, "pending": 0, "unsubscribed": 0}
    call("POST", "/subscribers/eva@example.org/unsubscribe", json={"lists": ["members"]})
    stats = call("GET", "/stats").get_json()
    assert stats["subscribers"]["lists"]["members"] == {"active": 2, "unsubscribed": 1}
    assert stats["subscribers"]["total"] == 3
    bad_list = call("POST", "/subscribers/eva@example.org/unsubscribe", json={"lists": ["x"]})
    assert (bad_list.status_code, _error(bad_list)["code"]) == (422, "invalid")


def test_import_reports_bad_rows_and_erase_removes_the_person(call: Call) -> None:
    answer = _import(call, "eva@example.org", "kein-at-zeichen")
    data = answer.get_json()["data"]
    assert (data["created"], len(data["errors"])) == (1, 1)
    assert data["errors"][0]["line"] == 3
    assert call("GET", "/subscribers/eva@example.org/export", as_=BERT).status_code == 200
    erased = call("DELETE", "/subscribers/eva@example.org", as_=DORA).get_json()["data"]
    assert erased["subscriber_erased"] is True
    assert call("GET", "/subscribers/eva@example.org").status_code == 404


def test_statistics_count_mailings_and_deliveries(
    call: Call, news_items: list[int], settings: Settings
) -> None:
    _import(call, "eva@example.org", "fritz@example.org")
    newsletter = call("POST", "/mailings/newsletter").get_json()["data"]
    call("POST", f"/mailings/{newsletter['id']}/approve", as_=BERT)
    sent = call("POST", f"/mailings/{newsletter['id']}/send", as_=BERT).get_json()
    assert sent["report"]["sent"] == 2
    stats = call("GET", "/stats").get_json()
    assert stats["mailings"]["sent"] == 1 and stats["mailings"]["draft"] == 0
    assert stats["deliveries"]["sent"] == 2 and stats["deliveries"]["failed"] == 0
    assert stats["bounces"] == {}


def test_too_many_requests_with_one_token_are_429_with_retry_after(
    settings_factory: Any,
    store: Store,
    clock: FakeClock,
    tokens: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.support.web import make_app, set_editor_env

    settings = settings_factory(api={"requests_per_minute": 3})
    set_editor_env(monkeypatch, settings)
    # two apps on one store: two workers, one count
    first, second = make_app(settings, store, clock), make_app(settings, store, clock)
    anna = {"Authorization": f"Bearer {tokens[ANNA]}"}
    bert = {"Authorization": f"Bearer {tokens[BERT]}"}
    a, b = first.test_client(), second.test_client()
    assert [a.get("/api/v1/lists", headers=anna).status_code for _ in range(2)] == [200, 200]
    assert b.get("/api/v1/lists", headers=anna).status_code == 200
    limited = b.get("/api/v1/lists", headers=anna)
    assert limited.status_code == 429
    assert _error(limited)["code"] == "rate_limited"
    assert limited.headers["Retry-After"] == "20"  # one request more every 20 s
    assert a.get("/api/v1/lists", headers=bert).status_code == 200  # another token
    clock.advance(seconds=20)
    assert a.get("/api/v1/lists", headers=anna).status_code == 200
    assert a.get("/api/v1/lists", headers=anna).status_code == 429


def test_the_store_unavailable_is_503_with_a_code(
    client: FlaskClient, call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.errors import StoreError
    from pipeline.web.api import common

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise StoreError("database is locked")

    assert call("GET", "/lists").status_code == 200
    monkeypatch.setattr(common.Workflow, "list_mailings", broken)
    answer = call("GET", "/mailings")
    assert answer.status_code == 503
    assert _error(answer)["code"] == "store_unavailable"
    assert answer.headers["Retry-After"] == "30"


def test_a_press_release_written_through_the_api(call: Call, store: Store) -> None:
    from pipeline.store import items as store_items

    body = {
        "title": "Bürgermeister*innen fordern ein Investitionsprogramm",
        "text": "Die Kommunen brauchen **jetzt** Planungssicherheit.\n\nMehr am Freitag.",
        "link": "https://www.junge-buergermeister.example/presse/investitionen",
        "image_url": "https://www.junge-buergermeister.example/bilder/presse.jpg",
        "image_alt": "Drei Bürgermeisterinnen vor dem Rathaus",
        "image_credit": "©NJB",
    }
    made = call("POST", "/mailings/press", json=body)
    assert made.status_code == 201, made.get_json()
    data = made.get_json()["data"]
    assert (data["kind"], data["subject"]) == ("press", body["title"])
    item = store_items.get_item(store, data["item_ids"][0])
    assert item is not None and "<strong>jetzt</strong>" in item.content_html
    assert item.link == body["link"] and not item.eligible
    both = call("POST", "/mailings/press", json={"item_id": item.id, "title": "x"})
    assert (both.status_code, both.get_json()["error"]["field"]) == (422, "title")
    neither = call("POST", "/mailings/press", json={})
    assert (neither.status_code, neither.get_json()["error"]["field"]) == (422, "item_id")
    no_alt = call("POST", "/mailings/press", json={**body, "image_alt": ""})
    assert (no_alt.status_code, no_alt.get_json()["error"]["field"]) == (422, "image_alt")
    no_text = call("POST", "/mailings/press", json={"title": "Nur ein Titel"})
    assert (no_text.status_code, no_text.get_json()["error"]["field"]) == (422, "text")
    assert store_items.count_items(store) == 1
