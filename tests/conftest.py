"""Fixtures every test can use: settings, a real SQLite store, a fake clock, a real
SMTP server on loopback. HTTP servers come from pytest-httpserver (``httpserver``)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

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


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test (``make test`` sets the server's URL).

    Each test gets its own schema through ``search_path``, so tests never see each
    other's rows and the database needs no cleaning between runs.
    """
    base = os.environ.get("RUNDBRIEF_TEST_POSTGRES_URL", "")
    if not base:
        pytest.skip("RUNDBRIEF_TEST_POSTGRES_URL is not set (make test sets it)")
    schema = f"t_{secrets.token_hex(4)}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    store = Store.open(pg_url)
    yield store
    store.close()
