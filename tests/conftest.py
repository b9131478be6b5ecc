"""Fixtures every test can use: settings, a real SQLite store, a fake clock, a real
SMTP server on loopback. HTTP servers come from pytest-httpserver (``httpserver``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from tests.support.settings import make_settings
from tests.support.smtp import SmtpServer

REPO = Path(__file__).resolve().parent.parent
SEED_ARTICLE = REPO / "tests" / "fixtures" / "seed-article.txt"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 6, 19, 8, 0, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def settings_factory(tmp_path: Path) -> Any:
    def factory(**overrides: Any) -> Settings:
        return make_settings(tmp_path, **overrides)

    return factory


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = Store.open(settings.database_url())
    yield store
    store.close()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()
