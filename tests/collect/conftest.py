"""Helpers for the collect tests: golden feed files and settings pointing at loopback."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipeline.clock import FakeClock
from pipeline.collect import CollectReport, Progress, collect
from pipeline.config import Settings
from pipeline.store import Store
from tests.conftest import REPO

FEEDS = REPO / "tests" / "fixtures" / "feeds"
RSS = "application/rss+xml; charset=utf-8"


def fixture_bytes(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def feed(name: str, url: str, kind: str = "article", **extra: Any) -> dict[str, Any]:
    return {"name": name, "url": url, "kind": kind, **extra}


@pytest.fixture
def run(
    settings_factory: Callable[..., Settings], clock: FakeClock, tmp_path: Path
) -> Callable[..., tuple[CollectReport, Store]]:
    """Collect once with the given [[feeds]] and [collect] overrides; returns the report
    and the store (the same SQLite file across calls in one test)."""
    stores: list[Store] = []

    def runner(
        feeds: list[dict[str, Any]],
        names: list[str] | None = None,
        progress: Progress | None = None,
        **collect_opts: Any,
    ) -> tuple[CollectReport, Store]:
        settings = settings_factory(feeds=feeds, collect={"timeout": 5, **collect_opts})
        store = Store.open(settings.database_url())
        stores.append(store)
        report = collect(settings, store, clock=clock, feed_names=names, progress=progress)
        return report, store

    yield runner
    for store in stores:
        store.close()


@pytest.fixture
def threaded_httpserver() -> Iterator[HTTPServer]:
    """A loopback HTTP server answering each request in its own thread, so one held
    response (``serve_when``) does not hold the others back."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def serve_when(
    server: HTTPServer, path: str, body: bytes, ready: threading.Event, timeout: float = 5
) -> str:
    """Serve ``body`` at ``path`` only once ``ready`` is set (or ``timeout`` passed), to
    make this feed's fetch finish after others under real concurrency."""

    def handler(_request: Request) -> Response:
        ready.wait(timeout)
        return Response(body, content_type=RSS)

    server.expect_request(path).respond_with_handler(handler)
    return server.url_for(path)


def serve(
    server: HTTPServer, path: str, body: bytes, content_type: str = RSS, **headers: str
) -> str:
    server.expect_request(path).respond_with_data(
        body, content_type=content_type, headers=headers or None
    )
    return server.url_for(path)
