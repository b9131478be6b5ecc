"""Fixtures of the API tests: the app on a real SQLite file, one account of each role
(two approvers, for the four-eyes rule) with an API token, items to compose from."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pipeline.access import Actor, Role
from pipeline.accounts import Accounts
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from tests.support.mail_items import add_item, add_items
from tests.support.web import make_app, set_editor_env

PASSWORD = "richtig-langes-passwort"
ROOT = Actor("root@example.org", Role.ADMIN, channel="cli")
ANNA = "anna@junge-buergermeister.example"  # editor
BERT = "bert@junge-buergermeister.example"  # approver
CLARA = "clara@junge-buergermeister.example"  # another approver
DORA = "dora@junge-buergermeister.example"  # admin
ROLE_OF = {ANNA: Role.EDITOR, BERT: Role.APPROVER, CLARA: Role.APPROVER, DORA: Role.ADMIN}
BY_ROLE = {Role.EDITOR: ANNA, Role.APPROVER: BERT, Role.ADMIN: DORA}


@pytest.fixture
def accounts(store: Store, settings: Settings, clock: FakeClock) -> Accounts:
    return Accounts(store, settings, clock)


@pytest.fixture
def tokens(accounts: Accounts) -> dict[str, str]:
    """An API token of each account, by e-mail address."""
    out = {}
    for email, role in ROLE_OF.items():
        accounts.add(ROOT, email, role, PASSWORD, name=email.split("@")[0].title())
        out[email], _ = accounts.create_token(ROOT, email, name="test")
    return out


@pytest.fixture
def app(
    settings: Settings, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Flask:
    set_editor_env(monkeypatch, settings)
    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")
    return make_app(settings, store, clock)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


Call = Callable[..., Any]


@pytest.fixture
def call(client: FlaskClient, tokens: dict[str, str]) -> Call:
    """``call(method, path, as_=EMAIL, json=...)``: a request with that account's token."""

    def request(method: str, path: str, *, as_: str = ANNA, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if as_:
            headers["Authorization"] = f"Bearer {tokens[as_]}"
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return request


@pytest.fixture
def news_items(store: Store, clock: FakeClock) -> list[int]:
    return add_items(store, clock.now(), 4, kinds=("article", "event_report"))


@pytest.fixture
def press_item(store: Store, clock: FakeClock) -> int:
    return add_item(
        store,
        title="Bürgermeisterinnen fordern Investitionsprogramm",
        kind="press_release",
        published_at=clock.now() - timedelta(hours=1),
    )
