"""No lost work in Chromium: an editor types into the content form, the session expires,
she saves, logs in again and finds her text; leaving it unsaved asks first."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from pipeline.clock import FakeClock
from pipeline.models import Mailing
from pipeline.store import Store
from pipeline.store import mailings as store_mailings
from tests.support.browser import (
    CHROMIUM,
    HAVE_CHROMIUM,
    assert_accessible,
    chromium,
    no_horizontal_scroll,
)
from tests.support.smtp import free_port
from tests.support.web import EDITOR, PASSWORD, seed_mailing, set_editor_env
from tests.web.test_browser import _block_the_world, _log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not HAVE_CHROMIUM, reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]

INTRO = "Liebe Mitglieder,\n\nin Görlitz planen wir die Wärme gemeinsam."


@pytest.fixture
def live(
    settings_factory: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Store, Mailing]]:
    from pipeline.web import create_app

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = settings_factory(web={"base_url": base_url})
    set_editor_env(monkeypatch, settings)
    store = Store.open(settings.database_url())
    mailing = seed_mailing(store, clock)
    server: BaseWSGIServer = make_server(
        "127.0.0.1", port, create_app(settings, store, clock=clock), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url, store, mailing
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        store.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def test_the_typed_intro_survives_an_expired_session(
    live: tuple[str, Store, Mailing], browser: Any, clock: FakeClock
) -> None:
    base_url, store, mailing = live
    context = browser.new_context(viewport={"width": 375, "height": 900}, locale="de-DE")
    page = context.new_page()
    _block_the_world(page, base_url)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    target = f"/editor/mailings/{mailing.id}"
    _log_in(page, base_url, target)

    page.get_by_label("Betreff", exact=True).fill("Wärme gemeinsam planen")
    page.locator("#intro").fill(INTRO)
    clock.advance(hours=13)  # the session ends while she types
    page.get_by_role("button", name="Speichern", exact=True).click()

    page.wait_for_url(f"{base_url}/editor/mailings/{mailing.id}/content")
    assert page.locator("#login-expired").is_visible()
    assert "Ihre Eingaben sind aufbewahrt" in page.locator("#login-expired").inner_text()
    assert_accessible(page)
    page.get_by_label("E-Mail-Adresse").fill(EDITOR)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()

    page.wait_for_url(f"{base_url}{target}")
    assert "Ihr Text ist noch nicht gespeichert" in page.locator("#kept-notice").inner_text()
    assert page.locator("#intro").input_value() == INTRO
    assert page.get_by_label("Betreff", exact=True).input_value() == "Wärme gemeinsam planen"
    assert store_mailings.get_mailing(store, mailing.id).intro_md != INTRO
    assert_accessible(page)
    assert no_horizontal_scroll(page) <= 375

    # the kept text is not saved: closing the tab asks first
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", answer)
    page.locator("#intro").press("End")  # a user gesture, which the browser requires
    with page.expect_event("dialog"):
        page.close(run_before_unload=True)
    assert asked == ["beforeunload"]

    # saved consciously, after the log-in: now it is in the store, and no question
    again = context.new_page()
    again.goto(f"{base_url}{target}")
    assert again.locator("#intro").input_value() != INTRO  # taken once, shown once
    again.locator("#intro").fill(INTRO)
    again.get_by_role("button", name="Speichern", exact=True).click()
    again.wait_for_url(f"{base_url}{target}")
    assert store_mailings.get_mailing(store, mailing.id).intro_md == INTRO
    # the one error the console shows is the expected 401 of the log-in form
    assert [p for p in problems if "status of 401" not in p] == []
    context.close()
