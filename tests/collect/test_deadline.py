"""collect.timeout bounds the whole fetch of a feed, even against a server that trickles."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from pytest_httpserver import HTTPServer

from pipeline.clock import FakeClock
from pipeline.collect import FeedOutcome, collect
from pipeline.config import Settings
from pipeline.store import Store
from tests.collect.conftest import feed, serve
from tests.collect.test_collect import item, rss

WHEN = "Thu, 18 Jun 2026 08:00:00 GMT"
BODY_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 100000\r\n\r\n"
)


class Trickle:
    """A loopback server that sends ``head`` and then ``drip`` one byte per ``every``
    seconds; it gives up by itself after ``limit`` seconds, so a test cannot hang."""

    def __init__(self, head: bytes, drip: bytes, every: float = 0.05, limit: float = 6) -> None:
        self.head, self.drip, self.every, self.limit = head, drip, every, limit
        self.finished = threading.Event()  # the one answer has ended, one way or another
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/feed"

    def _serve(self) -> None:
        conn, _ = self._listener.accept()
        end = time.monotonic() + self.limit
        try:
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(4096)
                conn.sendall(self.head)
                for byte in self.drip:
                    if time.monotonic() > end or self._stop.wait(self.every):
                        break
                    conn.sendall(bytes([byte]))
        except OSError:
            pass  # the client hung up: what a deadline does
        finally:
            self.finished.set()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(10)


@pytest.fixture
def trickle() -> Iterator[Callable[..., Trickle]]:
    servers: list[Trickle] = []

    def start(head: bytes, drip: bytes) -> Trickle:
        servers.append(Trickle(head, drip))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize(
    "phase, head, drip",
    [
        ("body", BODY_HEAD, b" " * 100_000),
        ("headers", b"HTTP/1.1 200 OK\r\n", b"X-Padding: " + b"a" * 10_000 + b"\r\n\r\n"),
    ],
)
def test_trickling_feed_fails_at_the_deadline_and_collect_returns(
    settings_factory: Callable[..., Settings],
    clock: FakeClock,
    trickle: Callable[..., Trickle],
    phase: str,
    head: bytes,
    drip: bytes,
) -> None:
    server = trickle(head, drip)
    settings = settings_factory(feeds=[feed("tropf", server.url)], collect={"timeout": 1})
    store = Store.open(settings.database_url())
    try:
        started = time.monotonic()
        report = collect(settings, store, clock=clock)
        took = time.monotonic() - started
    finally:
        store.close()
    assert took < 1 + 2, f"{phase}: collect took {took:.1f} s with collect.timeout = 1"
    [outcome] = report.feeds
    assert outcome.status == "error"
    assert outcome.error is not None
    assert "took longer than collect.timeout (1 s)" in outcome.error


def test_a_fast_feed_is_stored_while_a_slow_one_still_downloads(
    httpserver: HTTPServer,
    settings_factory: Callable[..., Settings],
    clock: FakeClock,
    trickle: Callable[..., Trickle],
) -> None:
    slow = trickle(BODY_HEAD, b" " * 100_000)
    fast = serve(httpserver, "/schnell", rss(item("s-1", "Schnell", WHEN)))
    # the slow feed comes first in the config: storing in config order would wait for it
    settings = settings_factory(
        feeds=[feed("tropf", slow.url), feed("schnell", fast)], collect={"timeout": 3}
    )
    database = urlsplit(settings.database_url()).path.removeprefix("/")
    seen: list[tuple[str, bool, int]] = []

    def progress(outcome: FeedOutcome, _done: int, _total: int) -> None:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as other:
            (stored,) = other.execute("SELECT count(*) FROM items").fetchone()
        seen.append((outcome.name, slow.finished.is_set(), stored))

    store = Store.open(settings.database_url())
    try:
        report = collect(settings, store, clock=clock, progress=progress)
    finally:
        store.close()
    # stored and visible to another connection while the slow answer was still running
    assert seen[0] == ("schnell", False, 1)
    assert seen[1][0] == "tropf"
    assert [(f.name, f.status) for f in report.feeds] == [("tropf", "error"), ("schnell", "ok")]
