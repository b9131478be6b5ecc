"""The editors' preview in a real browser: Debian's Chromium driven by Playwright.

The app runs under a real WSGI server (werkzeug) on 127.0.0.1 in a thread, against a
real SQLite store holding a newsletter composed from German items. Screenshots of the
preview page (desktop) and of the mail at 375 px (phone) are kept in ``test-artifacts/``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from pipeline.clock import FakeClock
from pipeline.mailings.compose import compose_newsletter
from pipeline.models import Mailing
from pipeline.store import Store
from tests.support.browser import CHROMIUM, HAVE_CHROMIUM, chromium, placeholder_png
from tests.support.smtp import free_port
from tests.support.web import EDITOR, PASSWORD, seed_items, set_editor_env

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not HAVE_CHROMIUM, reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


class LiveApp:
    def __init__(self, base_url: str, mailing: Mailing, store: Store) -> None:
        self.base_url = base_url
        self.mailing = mailing
        self.store = store


@pytest.fixture
def live_app(
    settings_factory: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LiveApp]:
    from pipeline.web import create_app

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = settings_factory(web={"base_url": base_url})
    set_editor_env(monkeypatch, settings)
    store = Store.open(settings.database_url())
    seed_items(store, clock, 5)
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    server: BaseWSGIServer = make_server(
        "127.0.0.1", port, create_app(settings, store, clock=clock), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveApp(base_url, mailing, store)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        store.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


def _block_the_world(page: Any, base_url: str) -> list[str]:
    """Only our own server answers. Item images get a local placeholder, anything else
    (fonts, trackers) is recorded and aborted: nothing leaves the machine."""
    outside: list[str] = []
    image = placeholder_png()

    def route(route: Any) -> None:
        url = route.request.url
        if url.startswith(base_url):
            route.continue_()
        elif route.request.resource_type == "image":
            route.fulfill(status=200, content_type="image/png", body=image)
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", route)
    return outside


def _log_in(page: Any, base_url: str, target: str) -> None:
    page.goto(f"{base_url}{target}")
    assert "/editor/login" in page.url  # sent to the login form first
    page.get_by_label("E-Mail-Adresse").fill(EDITOR)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{base_url}{target}")


def test_preview_page_loads_after_login(live_app: LiveApp, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="de-DE")
    page = context.new_page()
    _block_the_world(page, live_app.base_url)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    target = f"/editor/mailings/{live_app.mailing.id}"
    _log_in(page, live_app.base_url, target)

    assert page.locator("h1").inner_text() == live_app.mailing.subject
    assert page.locator("html").get_attribute("lang") == "de"
    frames = page.locator("iframe")
    assert frames.count() == 2
    widths = [frames.nth(i).bounding_box()["width"] for i in range(2)]
    assert [round(w) for w in widths] == [602, 377]  # 600 and 375 plus the 1 px border
    page.wait_for_load_state("networkidle")
    for frame in page.frames[1:]:
        frame.wait_for_load_state()
        assert "Netzwerktreffen der jungen Bürgermeister" in frame.content()
    assert "Textfassung" in page.content()
    assert errors == []
    page.screenshot(path=str(_artifact("editor-preview-desktop.png")), full_page=True)
    context.close()


def test_mail_has_no_horizontal_overflow_at_375_px(live_app: LiveApp, browser: Any) -> None:
    context = browser.new_context(
        viewport={"width": 375, "height": 812}, device_scale_factor=2, locale="de-DE"
    )
    page = context.new_page()
    outside = _block_the_world(page, live_app.base_url)
    render = f"/editor/mailings/{live_app.mailing.id}/render/de"
    _log_in(page, live_app.base_url, render)
    page.wait_for_load_state("networkidle")

    assert outside == []  # no remote font, stylesheet or script
    assert page.evaluate("document.documentElement.lang") == "de"
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 375, f"the mail is {scroll_width} px wide at a 375 px viewport"
    assert page.evaluate("document.scripts.length") == 0
    page.screenshot(path=str(_artifact("mail-phone-375.png")), full_page=True)

    # The editor pages themselves must work on a phone as well.
    page.goto(f"{live_app.base_url}/editor/mailings/{live_app.mailing.id}")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # Sandboxed frames are painted out of process and missing from full-page captures at
    # this pixel ratio: capture the screen with the preview in view instead.
    page.locator("#preview-heading").scroll_into_view_if_needed()
    page.screenshot(path=str(_artifact("editor-preview-phone.png")))
    context.close()


def test_mail_desktop_width(live_app: LiveApp, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 900}, locale="de-DE")
    page = context.new_page()
    _block_the_world(page, live_app.base_url)
    render = f"/editor/mailings/{live_app.mailing.id}/render/de"
    _log_in(page, live_app.base_url, render)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    page.screenshot(path=str(_artifact("mail-desktop.png")), full_page=True)
    context.close()


def test_the_segment_pages_work_at_320_px_without_script(live_app: LiveApp, browser: Any) -> None:
    from pipeline.store.saved_segments import insert_saved

    long = (
        'beat in ["Kommunalpolitik", "Digitales", "Demokratie & Beteiligung", "Kultur"] '
        'and region in ["Bayern", "Baden-Württemberg", "Sachsen"] and not outlet = "Landesfunk"'
    )
    now = live_app.mailing.created_at
    assert insert_saved(live_app.store, "suedost_politik", long, by=EDITOR, now=now)
    context = browser.new_context(
        viewport={"width": 320, "height": 640}, java_script_enabled=False, locale="de-DE"
    )
    page = context.new_page()
    _block_the_world(page, live_app.base_url)
    _log_in(page, live_app.base_url, "/editor/segments")
    assert "suedost_politik" in page.content()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the segment page is {width} px wide at 320 px"

    page.locator("#segment-name").fill("bayern_digital")
    page.locator("#segment-expression").fill('beat = "Digitales" and region = ')
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_load_state()
    assert "nicht lesbar" in page.content()
    assert page.locator("#segment-name").input_value() == "bayern_digital"  # kept
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.screenshot(path=str(_artifact("editor-segments-320.png")), full_page=True)

    page.goto(f"{live_app.base_url}/editor/mailings/{live_app.mailing.id}")
    page.wait_for_load_state()
    assert page.locator("#segment-choice").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    context.close()


def test_the_previews_are_out_of_the_tab_order(live_app: LiveApp, browser: Any) -> None:
    """From "Mailing absagen" the keyboard reaches the subject field in a few steps: the
    links inside both previews are not in the page's tab order (the mail opens in a tab
    of its own for that), and nothing focused on the way is a frame."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    page = context.new_page()
    _block_the_world(page, live_app.base_url)
    _log_in(page, live_app.base_url, f"/editor/mailings/{live_app.mailing.id}")
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Mailing absagen").focus()
    presses = 0
    seen: list[str] = []
    while presses < 40:
        page.keyboard.press("Tab")
        presses += 1
        focused = page.evaluate(
            "(() => { const e = document.activeElement; return e.tagName + '#' + e.id; })()"
        )
        seen.append(focused)
        if focused == "INPUT#subject":
            break
    assert seen[-1] == "INPUT#subject", seen
    assert presses <= 8, seen
    assert not any(name.startswith("IFRAME") for name in seen), seen
    assert page.get_by_role("link", name="Mail in neuem Tab öffnen").count() == 1
    context.close()


@pytest.mark.parametrize("width", [320, 375, 1280])
def test_the_start_page_and_the_mailings_list_work_at_every_width(
    live_app: LiveApp, browser: Any, width: int
) -> None:
    from tests.support.browser import assert_accessible, no_horizontal_scroll, screenshot

    context = browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE")
    page = context.new_page()
    outside = _block_the_world(page, live_app.base_url)
    _log_in(page, live_app.base_url, "/editor/")
    assert page.locator("h1").inner_text() == "Übersicht"
    assert page.locator("svg[role=img] polyline").count() == 2  # one line per list
    assert no_horizontal_scroll(page) <= width
    assert_accessible(page)
    screenshot(page, "editor-dashboard")
    page.goto(f"{live_app.base_url}/editor/mailings")
    assert no_horizontal_scroll(page) <= width
    # a phone shows every column of a mailing (as a card), its status and send time too
    status = page.locator("td[data-label=Status]").first
    assert status.is_visible() and status.bounding_box()["x"] + 10 < width
    assert page.locator("td[data-label=Versand]").first.is_visible()
    assert_accessible(page)
    screenshot(page, "editor-mailings")
    assert outside == []
    context.close()
