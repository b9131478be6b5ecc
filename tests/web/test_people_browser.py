"""The people pages in Chromium: at 1280 and 375 px, axe-core finds nothing, and at
320 px nothing scrolls sideways."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from pipeline.clock import FakeClock
from pipeline.store import Store
from tests.deliver.support import add_subscribers
from tests.support.browser import (
    CHROMIUM,
    HAVE_CHROMIUM,
    assert_accessible,
    chromium,
    no_horizontal_scroll,
    screenshot,
)
from tests.support.smtp import free_port
from tests.support.web import set_editor_env
from tests.web.test_browser import _block_the_world, _log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not HAVE_CHROMIUM, reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]

PAGES = ("/editor/subscribers", "/editor/lists", "/editor/signups")


@pytest.fixture
def live(settings_factory: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from pipeline.web import create_app

    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = settings_factory(web={"base_url": base_url})
    set_editor_env(monkeypatch, settings)
    store = Store.open(settings.database_url())
    add_subscribers(store, clock, 3, lists=("press",), prefix="redaktion")
    server: BaseWSGIServer = make_server(
        "127.0.0.1", port, create_app(settings, store, clock=clock), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        store.close()


def test_the_people_pages_are_accessible_and_fit_a_phone(live: str) -> None:
    with chromium() as browser:
        for width in (1280, 375, 320):
            context = browser.new_context(viewport={"width": width, "height": 800}, locale="de-DE")
            page = context.new_page()
            _block_the_world(page, live)
            _log_in(page, live, PAGES[0])
            for path in PAGES:
                page.goto(live + path)
                assert no_horizontal_scroll(page) <= width, path
                if width != 320:
                    assert_accessible(page)
                    screenshot(page, "editor-" + path.rsplit("/", 1)[-1])
            context.close()
