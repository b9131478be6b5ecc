"""The editor's mailing page names the segment and how many people it reaches."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pipeline.audience.csv_import import import_file
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Workflow
from pipeline.store import Store
from tests.mailings.test_segment_send import ANNA, BAYERN, PRESS
from tests.support.mail_items import add_items
from tests.support.settings import make_settings
from tests.support.web import login, make_app, set_editor_env


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, segments={"bayern": BAYERN})


@pytest.fixture
def app(
    settings: Settings, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Flask:
    set_editor_env(monkeypatch, settings)
    return make_app(settings, store, clock)


def test_the_page_shows_segment_and_recipients(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    path = tmp_path / "press.csv"
    path.write_text(PRESS, encoding="utf-8")
    import_file(settings, store, path, clock=clock, list_name="press")
    flow = Workflow(settings, store, clock)
    items = add_items(store, clock.now(), 2)
    segmented = flow.compose_press(items[0], by=ANNA, segment="bayern")
    whole = flow.compose_press(items[1], by=ANNA)
    assert login(client).status_code == 303
    page = client.get(f"/editor/mailings/{segmented.id}").get_data(as_text=True)
    assert "bayern: <code>beat in [&#34;Kommunalpolitik&#34;, &#34;Digitales&#34;]" in page
    assert '<dd id="recipients">2 (Stand jetzt)</dd>' in page
    page = client.get(f"/editor/mailings/{whole.id}").get_data(as_text=True)
    assert "keins (alle auf den Listen)" in page
    assert '<dd id="recipients">5 (Stand jetzt)</dd>' in page
