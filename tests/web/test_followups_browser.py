"""The follow-up form of a sent press release in a real browser (Debian's Chromium via
Playwright) at 320 px without script: usable, and a refusal keeps what was typed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from pipeline.clock import FakeClock
from pipeline.mailings import Workflow
from pipeline.store import Store
from tests.deliver.support import add_subscribers
from tests.support.browser import CHROMIUM, HAVE_CHROMIUM, chromium
from tests.support.mail_items import add_item, seed_paragraphs
from tests.support.press_record import APPROVER, EDITOR
from tests.support.smtp import free_port
from tests.support.web import set_editor_env
from tests.web.test_browser import _artifact, _block_the_world, _log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not HAVE_CHROMIUM, reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


@pytest.fixture
def live(
    settings_factory: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, int]]:
    """The app on a real server with one press release sent (maildir) to three people."""
    from pipeline.web import create_app

    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = settings_factory(web={"base_url": base_url})
    set_editor_env(monkeypatch, settings)
    store = Store.open(settings.database_url())
    item = add_item(
        store,
        title="Bürgermeister*innen fordern ein Investitionsprogramm für Kommunen",
        kind="press_release",
        published_at=clock.now() - timedelta(hours=1),
    )
    add_subscribers(store, clock, 3, lists=("press",), prefix="redaktion")
    flow = Workflow(settings, store, clock)
    release = flow.compose_press(item, by=EDITOR)
    flow.approve(release.id, by=APPROVER)
    assert flow.send_now(release.id, by=APPROVER).sent == 3
    server: BaseWSGIServer = make_server(
        "127.0.0.1", port, create_app(settings, store, clock=clock), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url, release.id
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        store.close()


def test_the_follow_up_form_works_at_320_px_without_script(
    live: tuple[str, int], tmp_path: Path
) -> None:
    base_url, release = live
    with chromium() as browser:
        context = browser.new_context(
            viewport={"width": 320, "height": 640}, java_script_enabled=False, locale="de-DE"
        )
        page = context.new_page()
        _block_the_world(page, base_url)
        _log_in(page, base_url, f"/editor/mailings/{release}")
        assert page.locator("#followup-form").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        text = "Richtig ist: " + seed_paragraphs()[0][:120]
        page.get_by_label("Art des Nachtrags").select_option("lift")
        page.locator("#followup-text").fill(text)
        page.get_by_role("button", name="Nachtrag anlegen").click()
        page.wait_for_load_state()
        assert "keine Sperrfrist" in page.content()
        assert page.locator("#followup-text").input_value() == text  # nothing lost
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        page.screenshot(path=str(_artifact("editor-followup-320.png")), full_page=True)
        page.get_by_label("Art des Nachtrags").select_option("correction")
        page.get_by_role("button", name="Nachtrag anlegen").click()
        page.wait_for_load_state()
        assert "ist als Entwurf angelegt" in page.content()
        assert page.locator("#follows").count() == 1
        context.close()
