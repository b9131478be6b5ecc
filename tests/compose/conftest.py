from __future__ import annotations

import pytest

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> str:
    value = "ein-langes-geheimnis-fuer-signierte-links"
    monkeypatch.setenv(settings.web.secret_env, value)
    return value


@pytest.fixture
def ctx(settings: Settings, store: Store, clock: FakeClock) -> tuple[Settings, Store, FakeClock]:
    return settings, store, clock
