"""Debian's Chromium driven by Playwright, for tests that look at rendered mail: never
``playwright install``; nothing leaves the machine (images get a local placeholder)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HAVE_CHROMIUM = Path(CHROMIUM).exists()


def placeholder_png(width: int = 600, height: int = 320) -> bytes:
    """A plain slate-blue PNG made here: stands in for the organisation's photos."""
    row = b"\x00" + bytes((70, 96, 130)) * width
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@contextmanager
def chromium() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_mail(browser: Any, html: str, *, width: int = 600, dark: bool = False) -> Any:
    """A page showing ``html`` as a mail client would: no scripts, no network."""
    context = browser.new_context(
        viewport={"width": width, "height": 900},
        color_scheme="dark" if dark else "light",
        java_script_enabled=True,  # for the test's own evaluate(); the mail has none
    )
    page = context.new_page()
    image = placeholder_png()

    def route(route: Any) -> None:
        if route.request.resource_type == "image":
            route.fulfill(status=200, content_type="image/png", body=image)
        else:
            route.abort()

    page.route("**/*", route)
    page.emulate_media(color_scheme="dark" if dark else "light")
    page.set_content(html, wait_until="load")
    return page


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
HAVE_AXE = AXE.exists()
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it stands (WCAG 2.x A and AA rules).

    The engine is evaluated through the browser's debugging protocol, so the page's own
    Content-Security-Policy (no script at all) stays in force and is tested as it is."""
    if not HAVE_AXE:
        pytest.skip(f"{AXE} is missing (make test-tools)")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """() => axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            resultTypes: ['violations'],
        })"""
    )
    return [
        {
            "id": v["id"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


def assert_accessible(page: Any) -> None:
    """No axe-core violation on the page; the message names each rule and its elements."""
    found = axe_violations(page)
    assert found == [], f"axe-core on {page.url}: {found}"


def screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot kept in test-artifacts/pages/ (named NAME-WIDTH.png)."""
    folder = ARTIFACTS / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = folder / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_horizontal_scroll(page: Any) -> int:
    """The page's scroll width; tests compare it with the viewport."""
    return int(page.evaluate("document.documentElement.scrollWidth"))


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """The WSGI app under a real threaded werkzeug server on 127.0.0.1; yields its base URL.

    Build the app with ``web.base_url`` set to ``http://127.0.0.1:PORT`` from
    ``tests.support.smtp.free_port()`` and pass the same port here via the app's config."""
    import threading

    from werkzeug.serving import make_server

    port = int(app.config["RUNDBRIEF_TEST_PORT"])
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
