from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.render import RenderedMailing
from pipeline.store import Store
from tests.support.mail_corpus import SECRET as CORPUS_SECRET
from tests.support.mail_corpus import corpus_settings, render_corpus


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> str:
    value = "ein-langes-geheimnis-fuer-signierte-links"
    monkeypatch.setenv(settings.web.secret_env, value)
    return value


@pytest.fixture
def ctx(settings: Settings, store: Store, clock: FakeClock) -> tuple[Settings, Store, FakeClock]:
    return settings, store, clock


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RenderedMailing]]:
    """Every mail template in both languages (``tests.support.mail_corpus``)."""
    tmp = tmp_path_factory.mktemp("corpus")
    settings = corpus_settings(tmp)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(settings.web.secret_env, CORPUS_SECRET)
        store = Store.open(settings.database_url())
        try:
            yield render_corpus(settings, store, FakeClock(datetime(2026, 6, 19, 8, 0, tzinfo=UTC)))
        finally:
            store.close()
