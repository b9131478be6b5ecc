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
