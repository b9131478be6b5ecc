"""Helpers for web tests: an app with editor credentials, logging in, reading CSRF tokens."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.store import Store
from pipeline.web import create_app

EDITOR = "redakteurin@junge-buergermeister.example"
PASSWORD = "Pässwort-für-die-Redaktion-2026"
SECRET = "test-secret-0123456789abcdef0123456789abcdef"


def set_editor_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """Put the signing secret and the editor's credentials where the config names them."""
    monkeypatch.setenv(settings.web.secret_env, SECRET)
    monkeypatch.setenv(settings.web.editor_user_env, EDITOR)
    monkeypatch.setenv(settings.web.editor_password_env, PASSWORD)


def make_app(settings: Settings, store: Store, clock: Clock, **kwargs: Any) -> Flask:
    app = create_app(settings, store, clock=clock, **kwargs)
    app.config["TESTING"] = True
    return app


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _TOKEN.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def login(client: FlaskClient, user: str = EDITOR, password: str = PASSWORD) -> Any:
    """Log in through the form, as a browser would (GET the form, POST it with its token)."""
    page = client.get("/editor/login")
    token = csrf_from(page.get_data(as_text=True))
    return client.post(
        "/editor/login",
        data={"username": user, "password": password, "csrf_token": token},
    )
