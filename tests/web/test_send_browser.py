"""The send pages in Chromium: at 1280 and 375 px axe-core finds nothing, at 320 px
nothing scrolls sideways, and "Jetzt senden" works with the keyboard and no script.
(axe-core runs in a context with script; the page itself never needs any.)"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from pipeline.clock import FakeClock
from pipeline.models import MailingStatus
from pipeline.store import Store
from pipeline.store import mailings as store_mailings
from tests.deliver.support import add_subscribers
from tests.support import mailings as mailing_ops
from tests.support.browser import (
    CHROMIUM,
    HAVE_CHROMIUM,
    assert_accessible,
    chromium,
    no_horizontal_scroll,
    screenshot,
)
from tests.support.smtp import free_port
from tests.support.web import seed_mailing, set_editor_env
from tests.web.test_browser import _block_the_world, _log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not HAVE_CHROMIUM, reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


@pytest.fixture
def live(
    settings_factory: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Store, dict[str, int]]]:
    from pipeline.web import create_app

    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = settings_factory(web={"base_url": base_url})
    set_editor_env(monkeypatch, settings)
    store = Store.open(settings.database_url())
    add_subscribers(store, clock, 3)
    approved = seed_mailing(store, clock).id
    mailing_ops.approve(store, approved, clock=clock, by="redaktion", settings=settings)
    sending = seed_mailing(store, clock, subject="Newsletter im Versand").id
    mailing_ops.approve(store, sending, clock=clock, by="redaktion", settings=settings)
    mailing_ops.set_status(store, sending, MailingStatus.SENDING, clock=clock)
    server: BaseWSGIServer = make_server(
        "127.0.0.1", port, create_app(settings, store, clock=clock), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url, store, {"approved": approved, "sending": sending}
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        store.close()


def test_the_send_pages_are_accessible_fit_a_phone_and_send_without_script(
    live: tuple[str, Store, dict[str, int]],
) -> None:
    base, store, ids = live
    paths = {name: f"/editor/mailings/{n}/send" for name, n in ids.items()}
    with chromium() as browser:
        for width in (1280, 375, 320):
            context = browser.new_context(viewport={"width": width, "height": 800}, locale="de-DE")
            page = context.new_page()
            _block_the_world(page, base)
            _log_in(page, base, paths["approved"])
            for name, path in paths.items():
                page.goto(base + path)
                assert no_horizontal_scroll(page) <= width, path
                if width != 320:
                    assert_accessible(page)
                    screenshot(page, f"editor-send-{name}")
            context.close()
        # no script needed: the form posts by itself
        context = browser.new_context(
            viewport={"width": 375, "height": 800}, locale="de-DE", java_script_enabled=False
        )
        page = context.new_page()
        _block_the_world(page, base)
        _log_in(page, base, paths["approved"])
        page.goto(base + paths["approved"])
        page.focus("#confirm-now")
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/editor/mailings/{ids['approved']}")
        assert "innerhalb einer Minute versendet" in page.content()
        context.close()
    after = store_mailings.get_mailing(store, ids["approved"])
    assert after.status == MailingStatus.SCHEDULED
