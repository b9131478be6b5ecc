"""The accounts service: add, roles, disable, passwords, tokens, each by an actor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pipeline.access import Actor, Role
from pipeline.accounts import Accounts, totp_code
from pipeline.clock import FakeClock
from pipeline.errors import AccountError, LoginRefused, PermissionDenied
from pipeline.store import Store
from pipeline.store import accounts as q
from tests.accounts.conftest import PASSWORD, ROOT, actor


def test_add_stores_an_argon2id_hash_and_a_case_insensitive_address(
    accounts: Accounts, store: Store
) -> None:
    added = accounts.add(ROOT, "Anna@Example.org", "editor", PASSWORD, name="Anna")
    row = q.find_account(store, "anna@example.org")
    assert row is not None and row.id == added.id
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    assert added.email == "Anna@Example.org" and added.role is Role.EDITOR
    with pytest.raises(AccountError, match="already"):
        accounts.add(ROOT, "ANNA@example.org", "approver", PASSWORD)


@pytest.mark.parametrize(
    ("email", "role", "password", "message"),
    [
        ("kein-at", "editor", PASSWORD, "not an e-mail"),
        ("a@example.org", "chef", PASSWORD, "unknown role"),
        ("a@example.org", "editor", "kurz", "too short"),
    ],
)
def test_add_refuses_bad_input(
    accounts: Accounts, email: str, role: str, password: str, message: str
) -> None:
    with pytest.raises(AccountError, match=message):
        accounts.add(ROOT, email, role, password)


@pytest.mark.parametrize("role", ["editor", "approver"])
def test_only_admins_manage_accounts(accounts: Accounts, people: dict[str, Any], role: str) -> None:
    who = actor(accounts, role)
    with pytest.raises(PermissionDenied):
        accounts.add(who, "neu@example.org", "editor", PASSWORD)
    with pytest.raises(PermissionDenied):
        accounts.list(who)
    with pytest.raises(PermissionDenied):
        accounts.set_role(who, "editor@example.org", "admin")
    with pytest.raises(PermissionDenied):
        accounts.disable(who, "admin@example.org")
    with pytest.raises(PermissionDenied):
        accounts.passwd(who, "admin@example.org", "ein-neues-passwort")
    with pytest.raises(PermissionDenied):
        accounts.create_token(who, "admin@example.org", name="x")


def test_admin_manages_accounts(accounts: Accounts, people: dict[str, Any]) -> None:
    admin = actor(accounts, "admin")
    assert [a.email for a in accounts.list(admin)] == [
        "admin@example.org",
        "approver@example.org",
        "editor@example.org",
    ]
    assert accounts.set_role(admin, "editor@example.org", "approver").role is Role.APPROVER
    assert accounts.actor_for("editor@example.org").role is Role.APPROVER
    assert not accounts.disable(admin, "editor@example.org").active
    with pytest.raises(AccountError, match="disabled"):
        accounts.actor_for("editor@example.org")


def test_the_last_admin_cannot_be_demoted_or_disabled(
    accounts: Accounts, people: dict[str, Any]
) -> None:
    admin = actor(accounts, "admin")
    with pytest.raises(AccountError, match="last active admin"):
        accounts.set_role(admin, "admin@example.org", "editor")
    with pytest.raises(AccountError, match="last active admin"):
        accounts.disable(admin, "admin@example.org")
    accounts.set_role(admin, "approver@example.org", "admin")
    accounts.set_role(admin, "admin@example.org", "editor")  # now another admin is left


def test_everyone_changes_their_own_password_with_the_current_one(
    accounts: Accounts, people: dict[str, Any]
) -> None:
    editor = actor(accounts, "editor")
    with pytest.raises(AccountError, match="current password"):
        accounts.passwd(editor, "editor@example.org", "ein-neues-passwort", current="falsch")
    accounts.passwd(editor, "editor@example.org", "ein-neues-passwort", current=PASSWORD)
    with pytest.raises(LoginRefused):
        accounts.authenticate("editor@example.org", PASSWORD, address="10.0.0.1")
    assert accounts.authenticate(
        "editor@example.org", "ein-neues-passwort", address="10.0.0.1"
    ).email == ("editor@example.org")


def test_authenticate_returns_the_actor_with_its_role(
    accounts: Accounts, people: dict[str, Any], clock: FakeClock
) -> None:
    got = accounts.authenticate("APPROVER@example.org", PASSWORD, address="10.0.0.1")
    assert got == Actor(
        "approver@example.org",
        Role.APPROVER,
        "Approver",
        people["approver"].id,
        "web",
        "10.0.0.1",
    )
    assert accounts.get(got, "approver@example.org").last_login_at == clock.now()


def test_unknown_and_disabled_accounts_get_the_same_refusal(
    accounts: Accounts, people: dict[str, Any]
) -> None:
    accounts.disable(actor(accounts, "admin"), "editor@example.org")
    messages = set()
    for email, password in (
        ("niemand@example.org", PASSWORD),
        ("editor@example.org", PASSWORD),
        ("approver@example.org", "falsch"),
    ):
        with pytest.raises(LoginRefused) as refused:
            accounts.authenticate(email, password, address="10.0.0.1")
        messages.add(str(refused.value))
    assert len(messages) == 1


def test_totp_is_asked_for_once_enrolled(
    accounts: Accounts, people: dict[str, Any], clock: FakeClock, store: Store
) -> None:
    editor = actor(accounts, "editor")
    uri = accounts.enroll_totp(editor, "editor@example.org")
    assert uri.startswith("otpauth://totp/") and "editor%40example.org" in uri
    secret = q.find_account(store, "editor@example.org").totp_secret  # type: ignore[union-attr]
    assert secret
    with pytest.raises(LoginRefused) as refused:
        accounts.authenticate("editor@example.org", PASSWORD, address="10.0.0.1")
    assert refused.value.totp_required
    with pytest.raises(LoginRefused, match="code is wrong"):
        accounts.authenticate(
            "editor@example.org", PASSWORD, address="10.0.0.1", totp_code="000000"
        )
    code = totp_code(secret, clock.now())
    got = accounts.authenticate("editor@example.org", PASSWORD, address="10.0.0.1", totp_code=code)
    assert got.role is Role.EDITOR


def test_a_code_works_once_and_only_near_its_time(
    accounts: Accounts, people: dict[str, Any], clock: FakeClock, store: Store
) -> None:
    """RFC 6238, 5.2: a code seen over a shoulder or caught by a phishing page is
    worthless once its owner used it; a phone a step ahead or behind still logs in."""
    editor = actor(accounts, "editor")
    accounts.enroll_totp(editor, "editor@example.org")
    secret = q.find_account(store, "editor@example.org").totp_secret  # type: ignore[union-attr]
    assert secret

    def login(code: str, address: str = "10.0.0.1") -> Actor:
        return accounts.authenticate(
            "editor@example.org", PASSWORD, address=address, totp_code=code
        )

    code = totp_code(secret, clock.now())
    login(code)
    with pytest.raises(LoginRefused, match="used already") as refused:
        login(code, address="10.0.0.99")  # the same code from elsewhere
    assert refused.value.totp_required
    # a phone 30 seconds ahead: the next step's code, once
    login(totp_code(secret, clock.now() + timedelta(seconds=30)))
    with pytest.raises(LoginRefused, match="used already"):
        login(code)  # an older step than the last one used
    clock.advance(minutes=5)
    with pytest.raises(LoginRefused, match="code is wrong"):
        login(totp_code(secret, clock.now() - timedelta(seconds=60)))  # two steps old
    login(totp_code(secret, clock.now() - timedelta(seconds=30)))  # one step behind
    # enrolling again starts afresh: the new secret's code works at once
    accounts.enroll_totp(editor, "editor@example.org")
    fresh = q.find_account(store, "editor@example.org").totp_secret  # type: ignore[union-attr]
    assert fresh and fresh != secret
    login(totp_code(fresh, clock.now()))


def test_only_an_admin_removes_a_second_factor(
    accounts: Accounts, people: dict[str, Any], clock: FakeClock, store: Store
) -> None:
    """A lost phone: an admin removes the factor. Its owner cannot: a stolen session
    must not be able to strip the account of it."""
    editor = actor(accounts, "editor")
    accounts.enroll_totp(editor, "editor@example.org")
    assert accounts.get(editor, "editor@example.org").totp_enrolled
    with pytest.raises(PermissionDenied):
        accounts.drop_totp(editor, "editor@example.org")
    dropped = accounts.drop_totp(actor(accounts, "admin"), "editor@example.org")
    assert not dropped.totp_enrolled
    assert accounts.authenticate("editor@example.org", PASSWORD, address="10.0.0.1")


def test_admins_need_totp_when_the_operator_says_so(
    store: Store, settings_factory: Any, clock: FakeClock, people: dict[str, Any]
) -> None:
    strict = Accounts(store, settings_factory(accounts={"require_totp_for_admins": True}), clock)
    with pytest.raises(LoginRefused, match="second factor"):
        strict.authenticate("admin@example.org", PASSWORD, address="10.0.0.1")
    # editors and approvers are not affected
    strict.authenticate("editor@example.org", PASSWORD, address="10.0.0.1")
    admin = strict.actor_for("admin@example.org")
    secret_uri = strict.enroll_totp(admin, "admin@example.org")
    assert "secret=" in secret_uri
    secret = q.find_account(store, "admin@example.org").totp_secret  # type: ignore[union-attr]
    assert secret
    strict.authenticate(
        "admin@example.org", PASSWORD, address="10.0.0.1", totp_code=totp_code(secret, clock.now())
    )


def test_api_tokens_verify_until_revoked_or_expired(
    accounts: Accounts, people: dict[str, Any], clock: FakeClock, store: Store
) -> None:
    editor = actor(accounts, "editor")
    token, record = accounts.create_token(
        editor, "editor@example.org", name="website", expires_at=clock.now() + timedelta(days=2)
    )
    assert token.startswith("rb_") and len(token) > 40
    assert q.find_token(store, token) is None  # only the hash is stored
    got = accounts.verify_token(token, address="10.0.0.9")
    assert (got.email, got.role, got.channel) == ("editor@example.org", Role.EDITOR, "api")
    assert accounts.tokens(editor, "editor@example.org")[0].last_used_at == clock.now()
    # the role is the account's at each request
    accounts.set_role(actor(accounts, "admin"), "editor@example.org", "approver")
    assert accounts.verify_token(token).role is Role.APPROVER
    clock.advance(days=2)
    with pytest.raises(LoginRefused, match="expired"):
        accounts.verify_token(token)
    assert accounts.tokens(editor, "editor@example.org")[0].state(clock.now()) == "expired"

    second, record = accounts.create_token(editor, "editor@example.org", name="cms")
    accounts.verify_token(second)
    with pytest.raises(PermissionDenied):
        accounts.revoke_token(actor(accounts, "approver"), record.id)
    accounts.revoke_token(editor, record.id)
    with pytest.raises(LoginRefused, match="revoked"):
        accounts.verify_token(second)
    with pytest.raises(LoginRefused, match="unknown"):
        accounts.verify_token("rb_not-a-token")


def test_a_disabled_account_s_tokens_stop(accounts: Accounts, people: dict[str, Any]) -> None:
    token, _ = accounts.create_token(ROOT, "editor@example.org", name="x")
    accounts.disable(actor(accounts, "admin"), "editor@example.org")
    with pytest.raises(LoginRefused, match="disabled"):
        accounts.verify_token(token)


def test_operator_is_the_configured_account_or_the_builtin_approver(
    store: Store, settings_factory: Any, clock: FakeClock, people: dict[str, Any]
) -> None:
    builtin = Accounts(store, settings_factory(), clock).operator()
    assert (builtin.email, builtin.role, builtin.channel) == (
        "daemon@localhost",
        Role.APPROVER,
        "daemon",
    )
    named = Accounts(
        store, settings_factory(accounts={"operator": "approver@example.org"}), clock
    ).operator()
    assert (named.email, named.role, named.channel) == (
        "approver@example.org",
        Role.APPROVER,
        "daemon",
    )
    with pytest.raises(AccountError, match="no account"):
        Accounts(store, settings_factory(accounts={"operator": "x@example.org"}), clock).operator()
