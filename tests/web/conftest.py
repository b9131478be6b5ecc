"""Fixtures shared by the web tests: the app with editor credentials, a browser client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from tests.support.web import make_app, set_editor_env


@pytest.fixture
def app(
    settings: Settings, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Flask:
    set_editor_env(monkeypatch, settings)
    return make_app(settings, store, clock)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client
