"""Issue 12, items 5 and 6: bearer tokens. Unknown, expired, revoked tokens and a
disabled account are refused (401, code ``unauthorized``); the token acts with its
owner's role now (a role taken away is taken from the token too); no cookie is set and
no CSRF token is asked for."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from pipeline.accounts import Accounts
from pipeline.clock import FakeClock
from tests.api.conftest import ANNA, BERT, ROOT, Call


def _code(answer: object) -> str:
    return answer.get_json()["error"]["code"]  # type: ignore[attr-defined,no-any-return]


def test_no_token_or_another_scheme_is_401_with_a_code(client: FlaskClient) -> None:
    for headers in ({}, {"Authorization": "Basic YWRtaW46YWRtaW4="}, {"Authorization": "Bearer"}):
        answer = client.get("/api/v1/mailings", headers=headers)
        assert answer.status_code == 401
        assert _code(answer) == "unauthorized"
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Set-Cookie" not in answer.headers


def test_an_unknown_token_is_refused(client: FlaskClient, tokens: dict[str, str]) -> None:
    answer = client.get("/api/v1/mailings", headers={"Authorization": "Bearer rb_falsch"})
    assert (answer.status_code, _code(answer)) == (401, "unauthorized")


def test_an_expired_token_is_refused(
    client: FlaskClient, accounts: Accounts, clock: FakeClock, tokens: dict[str, str]
) -> None:
    token, _ = accounts.create_token(ROOT, ANNA, expires_at=clock.now() + timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/mailings", headers=headers).status_code == 200
    clock.advance(hours=1)
    answer = client.get("/api/v1/mailings", headers=headers)
    assert (answer.status_code, _code(answer)) == (401, "unauthorized")
    assert "expired" in answer.get_json()["error"]["message"]


def test_a_revoked_token_is_refused(call: Call, accounts: Accounts, tokens: dict[str, str]) -> None:
    assert call("GET", "/mailings", as_=ANNA).status_code == 200
    (record,) = accounts.tokens(ROOT, ANNA)
    accounts.revoke_token(ROOT, record.id)
    answer = call("GET", "/mailings", as_=ANNA)
    assert (answer.status_code, _code(answer)) == (401, "unauthorized")
    assert "revoked" in answer.get_json()["error"]["message"]


def test_the_token_of_a_disabled_account_is_refused(call: Call, accounts: Accounts) -> None:
    accounts.disable(ROOT, BERT)
    answer = call("GET", "/mailings", as_=BERT)
    assert (answer.status_code, _code(answer)) == (401, "unauthorized")


def test_the_token_has_its_owners_role_now_not_at_issue(
    call: Call, accounts: Accounts, news_items: list[int]
) -> None:
    newsletter = call("POST", "/mailings/newsletter", as_=ANNA).get_json()["data"]
    accounts.set_role(ROOT, BERT, "editor")  # bert's token was made while he was approver
    answer = call("POST", f"/mailings/{newsletter['id']}/approve", as_=BERT)
    assert (answer.status_code, _code(answer)) == (403, "forbidden")
    accounts.set_role(ROOT, ANNA, "approver")
    assert call("POST", f"/mailings/{newsletter['id']}/approve", as_=ANNA).status_code == 200


def test_no_csrf_token_is_needed_and_no_cookie_is_set(call: Call, news_items: list[int]) -> None:
    answer = call("POST", "/mailings/newsletter", as_=ANNA)
    assert answer.status_code == 201
    assert "Set-Cookie" not in answer.headers


def test_a_web_session_cookie_is_no_credential_of_the_api(client: FlaskClient) -> None:
    client.set_cookie("rundbrief_session", "anything")
    assert client.get("/api/v1/mailings").status_code == 401
