"""Named accounts in the web app: the account page, TOTP log-in, disabled accounts."""

from __future__ import annotations

from flask import Flask

from pipeline.access import Role
from pipeline.accounts import Accounts, totp_code
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from pipeline.store import accounts as q
from tests.support.web import EDITOR, PASSWORD, csrf_from, login

ANNA = "anna@junge-buergermeister.example"
ANNA_PASSWORD = "annas-langes-passwort"


def _service(store: Store, settings: Settings, clock: FakeClock) -> Accounts:
    return Accounts(store, settings, clock)


def _anna(app: Flask, store: Store, settings: Settings, clock: FakeClock) -> Accounts:
    app.test_client().get("/editor/login")  # the app adopted the env account: the admin
    service = _service(store, settings, clock)
    service.add(service.actor_for(EDITOR), ANNA, "editor", ANNA_PASSWORD, name="Anna")
    return service


def test_login_gives_the_account_s_actor(
    app: Flask, store: Store, settings: Settings, clock: FakeClock
) -> None:
    _anna(app, store, settings, clock)
    with app.test_client() as client:
        assert login(client, ANNA, ANNA_PASSWORD).status_code == 303
        page = client.get("/editor/account").get_data(as_text=True)
    assert "Rolle: <strong>editor</strong>" in page and "diese Sitzung" in page


def test_account_page_ends_another_session_and_changes_the_password(
    app: Flask, store: Store, settings: Settings, clock: FakeClock
) -> None:
    service = _anna(app, store, settings, clock)
    laptop, phone = app.test_client(), app.test_client()
    assert login(laptop, ANNA, ANNA_PASSWORD).status_code == 303
    clock.advance(60)
    assert login(phone, ANNA, ANNA_PASSWORD).status_code == 303
    anna = service.actor_for(ANNA)
    phone_ref = service.sessions(anna, ANNA)[0].ref  # newest first: the phone's
    page = laptop.get("/editor/account").get_data(as_text=True)
    assert phone_ref in page
    done = laptop.post("/editor/account", data={"csrf_token": csrf_from(page), "end": phone_ref})
    assert done.status_code == 303
    assert phone.get("/editor/").status_code == 302  # the phone is logged out
    assert laptop.get("/editor/").status_code == 200

    page = laptop.get("/editor/account").get_data(as_text=True)
    wrong = laptop.post(
        "/editor/account",
        data={
            "csrf_token": csrf_from(page),
            "current_password": "falsch",
            "new_password": "ein-ganz-neues-passwort",
            "repeat_password": "ein-ganz-neues-passwort",
        },
    )
    assert wrong.status_code == 400
    changed = laptop.post(
        "/editor/account",
        data={
            "csrf_token": csrf_from(page),
            "current_password": ANNA_PASSWORD,
            "new_password": "ein-ganz-neues-passwort",
            "repeat_password": "ein-ganz-neues-passwort",
        },
    )
    assert changed.status_code == 303
    assert laptop.get("/editor/").status_code == 302
    with app.test_client() as fresh:
        assert login(fresh, ANNA, "ein-ganz-neues-passwort").status_code == 303


def test_a_disabled_account_s_session_cannot_act(
    app: Flask, store: Store, settings: Settings, clock: FakeClock
) -> None:
    service = _anna(app, store, settings, clock)
    with app.test_client() as client:
        assert login(client, ANNA, ANNA_PASSWORD).status_code == 303
        assert client.get("/editor/").status_code == 200
        service.disable(service.actor_for(EDITOR), ANNA)
        assert client.get("/editor/").status_code == 302
        assert login(client, ANNA, ANNA_PASSWORD).status_code == 401


def test_a_role_change_applies_to_the_open_session(
    app: Flask, store: Store, settings: Settings, clock: FakeClock
) -> None:
    service = _anna(app, store, settings, clock)
    with app.test_client() as client:
        assert login(client, ANNA, ANNA_PASSWORD).status_code == 303
        service.set_role(service.actor_for(EDITOR), ANNA, Role.APPROVER)
        page = client.get("/editor/account").get_data(as_text=True)
    assert "Rolle: <strong>approver</strong>" in page


def test_totp_login_asks_for_the_code(
    app: Flask, store: Store, settings: Settings, clock: FakeClock
) -> None:
    service = _anna(app, store, settings, clock)
    service.enroll_totp(service.actor_for(ANNA), ANNA)
    secret = q.find_account(store, ANNA).totp_secret  # type: ignore[union-attr]
    assert secret
    with app.test_client() as client:
        first = login(client, ANNA, ANNA_PASSWORD)
        assert first.status_code == 401
        assert 'name="code"' in first.get_data(as_text=True)
        assert login(client, ANNA, ANNA_PASSWORD, code="123456").status_code == 401
        ok = login(client, ANNA, ANNA_PASSWORD, code=totp_code(secret, clock.now()))
        assert ok.status_code == 303


def test_the_env_account_became_the_admin(app: Flask, store: Store) -> None:
    with app.test_client() as client:
        assert login(client, EDITOR, PASSWORD).status_code == 303
    row = q.find_account(store, EDITOR)
    assert row is not None and row.role == "admin"
