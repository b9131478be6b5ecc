"""Issue 12, item 6: each role allowed and refused the key actions through the API; the
four-eyes rule of press releases; every action in the audit log with channel "api"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pipeline import audit
from pipeline.access import LEAST_ROLE, Action, Role
from pipeline.clock import FakeClock
from pipeline.store import Store
from tests.api.conftest import ANNA, BERT, BY_ROLE, CLARA, DORA, Call

ROLES = (Role.EDITOR, Role.APPROVER, Role.ADMIN)


def _code(answer: Any) -> str:
    return answer.get_json()["error"]["code"]  # type: ignore[no-any-return]


def _newsletter(call: Call) -> int:
    answer = call("POST", "/mailings/newsletter", as_=ANNA)
    assert answer.status_code == 201, answer.get_json()
    return int(answer.get_json()["data"]["id"])


def _allowed(role: Role, action: Action) -> bool:
    return role.rank >= LEAST_ROLE[action].rank


def _import(call: Call, who: str, *addresses: str) -> Any:
    body = "email,first_name\n" + "".join(f"{a},Max\n" for a in addresses)
    return call(
        "POST",
        "/subscribers/import?list=members&filename=mitglieder.csv",
        as_=who,
        data=body.encode(),
        content_type="text/csv",
    )


@pytest.mark.parametrize("role", ROLES)
def test_mailing_actions_by_role(
    role: Role, call: Call, clock: FakeClock, news_items: list[int]
) -> None:
    who = BY_ROLE[role]
    mailing_id = _newsletter(call)
    # editing and test copies: every role
    edited = call("PATCH", f"/mailings/{mailing_id}", as_=who, json={"preheader": "Kurz"})
    assert edited.status_code == 200
    test = call("POST", f"/mailings/{mailing_id}/test-copy", as_=who, json={"to": who})
    assert test.status_code == 200, test.get_json()
    # deciding: approver and admin
    approve = call("POST", f"/mailings/{mailing_id}/approve", as_=who)
    if _allowed(role, Action.APPROVE):
        assert approve.status_code == 200, approve.get_json()
        assert approve.get_json()["data"]["status"] == "approved"
    else:
        assert (approve.status_code, _code(approve)) == (403, "forbidden")
        assert approve.get_json()["error"]["action"] == "approve"
    when = (clock.now() + timedelta(days=1)).isoformat()
    other = _newsletter_again(call, mailing_id)
    schedule = call("POST", f"/mailings/{other}/schedule", as_=who, json={"send_at": when})
    cancel = call("POST", f"/mailings/{other}/cancel", as_=who)
    if _allowed(role, Action.SCHEDULE):
        assert schedule.get_json()["data"]["status"] == "scheduled"
        assert cancel.get_json()["data"]["status"] == "cancelled"
    else:
        assert (schedule.status_code, _code(schedule)) == (403, "forbidden")
        assert (cancel.status_code, _code(cancel)) == (403, "forbidden")
    send = call("POST", f"/mailings/{mailing_id}/send", as_=who)
    if _allowed(role, Action.SEND):
        assert send.status_code == 200, send.get_json()
        assert send.get_json()["data"]["status"] == "sent"
    else:
        assert (send.status_code, _code(send)) == (403, "forbidden")


def _newsletter_again(call: Call, mailing_id: int) -> int:
    """A second draft: the press release of an item of the first (any role composes)."""
    first = call("GET", f"/mailings/{mailing_id}", as_=ANNA).get_json()["data"]
    answer = call("POST", "/mailings/press", as_=ANNA, json={"item_id": first["item_ids"][0]})
    assert answer.status_code == 201, answer.get_json()
    # bert composed nothing and edited nothing: he and dora may approve it
    return int(answer.get_json()["data"]["id"])


@pytest.mark.parametrize("role", ROLES)
def test_audience_actions_by_role(role: Role, call: Call) -> None:
    who = BY_ROLE[role]
    assert _import(call, ANNA, "eva@example.org", "fritz@example.org").status_code == 200
    checks = {
        Action.IMPORT: lambda: _import(call, who, "gustav@example.org"),
        Action.UNSUBSCRIBE: lambda: call(
            "POST", "/subscribers/eva@example.org/unsubscribe", as_=who, json={}
        ),
        Action.SUPPRESS: lambda: call(
            "POST", "/subscribers/fritz@example.org/suppress", as_=who, json={"reason": "manual"}
        ),
        Action.EXPORT: lambda: call("GET", "/subscribers/fritz@example.org/export", as_=who),
        Action.ERASE: lambda: call("DELETE", "/subscribers/fritz@example.org", as_=who),
    }
    for action, attempt in checks.items():
        answer = attempt()
        if _allowed(role, action):
            assert answer.status_code == 200, (action, answer.get_json())
        else:
            assert (answer.status_code, _code(answer)) == (403, "forbidden"), action


def test_every_role_may_look(call: Call, news_items: list[int]) -> None:
    mailing_id = _newsletter(call)
    for who in (ANNA, BERT, DORA):
        for path in ("/mailings", f"/mailings/{mailing_id}", "/items", "/lists", "/stats"):
            assert call("GET", path, as_=who).status_code == 200, path


def test_an_editor_cannot_approve_the_press_release_she_wrote_another_approver_can(
    call: Call, press_item: int
) -> None:
    press = call("POST", "/mailings/press", as_=ANNA, json={"item_id": press_item})
    press_id = press.get_json()["data"]["id"]
    refused = call("POST", f"/mailings/{press_id}/approve", as_=ANNA)
    assert (refused.status_code, _code(refused)) == (403, "forbidden")
    approved = call("POST", f"/mailings/{press_id}/approve", as_=BERT)
    assert approved.get_json()["data"]["approved_by"] == BERT


def test_the_approver_who_last_edited_a_press_release_cannot_approve_it(
    call: Call, press_item: int, store: Store
) -> None:
    press_id = call("POST", "/mailings/press", as_=ANNA, json={"item_id": press_item}).get_json()[
        "data"
    ]["id"]
    edit = call("PATCH", f"/mailings/{press_id}", as_=BERT, json={"subject": "Jetzt investieren"})
    assert edit.get_json()["data"]["last_edited_by"] == BERT
    refused = call("POST", f"/mailings/{press_id}/approve", as_=BERT)
    assert (refused.status_code, _code(refused)) == (403, "approval_refused")
    assert "edited this press release last" in refused.get_json()["error"]["message"]
    approved = call("POST", f"/mailings/{press_id}/approve", as_=CLARA)
    assert approved.status_code == 200
    assert approved.get_json()["data"]["approved_by"] == CLARA
    entries = audit.entries(store, mailing=press_id)
    assert [(e.action, e.actor_email, e.channel) for e in entries] == [
        ("compose", ANNA, "api"),
        ("edit", BERT, "api"),
        ("approve", CLARA, "api"),
    ]


def test_the_audit_log_names_the_api_and_the_token_owner(
    call: Call, store: Store, news_items: list[int]
) -> None:
    mailing_id = _newsletter(call)
    call("POST", f"/mailings/{mailing_id}/test-copy", as_=ANNA, json={"to": BERT})
    call("POST", f"/mailings/{mailing_id}/approve", as_=BERT)
    call("POST", f"/mailings/{mailing_id}/cancel", as_=DORA)
    entries = audit.entries(store, mailing=mailing_id)
    assert [(e.action, e.actor_email, e.channel) for e in entries] == [
        ("compose", ANNA, "api"),
        ("test_copy", ANNA, "api"),
        ("approve", BERT, "api"),
        ("cancel", DORA, "api"),
    ]
    assert all(e.address == "127.0.0.1" for e in entries)


def test_a_test_copy_never_goes_to_an_address_outside_the_organisation(
    call: Call, store: Store, news_items: list[int]
) -> None:
    """The API is no relay: a token's owner names the recipient, so the workflow's rule
    (own address, [sender] editors, active accounts) decides, as on the web."""
    mailing_id = _newsletter(call)
    refused = call(
        "POST", f"/mailings/{mailing_id}/test-copy", as_=ANNA, json={"to": "fremd@example.org"}
    )
    assert (refused.status_code, _code(refused)) == (403, "forbidden")
    assert (
        "test copies go only to the organisation's addresses"
        in refused.get_json()["error"]["message"]
    )
    assert [e.action for e in audit.entries(store, mailing=mailing_id)] == ["compose"]
