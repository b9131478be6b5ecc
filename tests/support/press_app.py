"""The web app over a store holding the five press contacts of the segment tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from pipeline.audience.csv_import import import_file
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from tests.support.web import make_app, set_editor_env


def press_contacts_app(
    settings: Settings,
    store: Store,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Flask:
    """``settings``' app with the press list of ``tests.mailings.test_segment_send``."""
    from tests.mailings.test_segment_send import PRESS

    set_editor_env(monkeypatch, settings)
    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")
    path = tmp_path / "press.csv"
    path.write_text(PRESS, encoding="utf-8")
    assert import_file(settings, store, path, clock=clock, list_name="press").created == 5
    return make_app(settings, store, clock)
