"""With one worker feeds are decided strictly in configuration order, on a file or in memory."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from pipeline.clock import FakeClock
from pipeline.collect import FeedOutcome, collect
from pipeline.config import Settings
from pipeline.store import Store
from pipeline.store.items import list_items
from tests.collect.conftest import feed, fixture_bytes, serve, serve_when
from tests.collect.test_collect import item, rss

SITE = "https://www.junge-buergermeister.example"
WHEN = "Thu, 18 Jun 2026 08:00:00 GMT"


def article(feed_name: str, number: int) -> str:
    # the guid differs per feed, the link does not: one article carried by several feeds
    return item(f"{feed_name}-{number}", f"Bürgerhaushalt Teil {number}", WHEN,
                link=f"{SITE}/2026/06/buergerhaushalt-{number}/")  # fmt: skip


@pytest.mark.parametrize("storage", ["file", "memory"])
def test_duplicates_across_feeds_belong_to_the_first_feed_in_config_order(
    threaded_httpserver: HTTPServer,
    settings_factory: Callable[..., Settings],
    clock: FakeClock,
    storage: str,
) -> None:
    bodies = {
        "eins": rss(article("eins", 1)),
        "zwei": rss(article("zwei", 1), article("zwei", 2)),
        "kaputt": b"",
        "drei": rss(article("drei", 2), article("drei", 3), article("drei", 3)),
        "vier": rss(article("vier", 3)),
        "html": fixture_bytes("html-page.html"),
        "fuenf": rss(article("fuenf", 1), article("fuenf", 4)),
    }
    httpserver = threaded_httpserver
    others_stored = threading.Event()
    feeds: list[dict[str, Any]] = []
    for name, body in bodies.items():
        if name == "eins":  # configured first, finishes last: it must still own article 1
            feeds.append(feed(name, serve_when(httpserver, "/eins", body, others_stored)))
        elif name == "kaputt":
            httpserver.expect_request("/kaputt").respond_with_data("Fehler", status=500)
            feeds.append(feed(name, httpserver.url_for("/kaputt")))
        else:
            feeds.append(feed(name, serve(httpserver, f"/{name}", body)))
    # default concurrency: the other feeds finish in whatever order the network makes
    overrides: dict[str, Any] = {"feeds": feeds, "collect": {"timeout": 5}}
    if storage == "memory":
        overrides["storage"] = {"url": "sqlite:///:memory:"}
    settings = settings_factory(**overrides)
    store = Store.open(settings.database_url())
    seen: list[tuple[str, int, int]] = []

    def progress(outcome: FeedOutcome, done: int, total: int) -> None:
        seen.append((outcome.name, done, total))
        if done == total - 1:
            others_stored.set()

    try:
        report = collect(settings, store, clock=clock, progress=progress)
        owners = {i.title: i.feed for i in list_items(store)}
    finally:
        store.close()

    assert [n for _, n, _ in seen] == list(range(1, 8)) and seen[-1] == ("eins", 7, 7)
    assert [f.name for f in report.feeds] == list(bodies)  # the report: config order
    assert [f.status for f in report.feeds] == ["ok", "ok", "error", "ok", "ok", "error", "ok"]
    eins = report.feeds[0]
    # stored last, eins takes article 1 over from zwei or fuenf (whichever got it first)
    assert (eins.new, eins.updated, eins.duplicates) == (0, 1, 0)
    assert report.new == 4  # each article stored once, however the feeds interleave
    assert owners == {
        "Bürgerhaushalt Teil 1": "eins",
        "Bürgerhaushalt Teil 2": "zwei",
        "Bürgerhaushalt Teil 3": "drei",
        "Bürgerhaushalt Teil 4": "fuenf",
    }


@pytest.mark.parametrize("enabled_before", [True, False])
def test_cyclic_collector_pauses_during_collect_and_is_left_as_found(
    httpserver: HTTPServer,
    settings_factory: Callable[..., Settings],
    clock: FakeClock,
    enabled_before: bool,
) -> None:
    settings = settings_factory(feeds=[feed("eins", serve(httpserver, "/e", rss(article("e", 1))))])
    store = Store.open(settings.database_url())
    during: list[bool] = []
    was = gc.isenabled()
    try:
        if not enabled_before:
            gc.disable()
        report = collect(
            settings, store, clock=clock, progress=lambda *_: during.append(gc.isenabled())
        )
        after = gc.isenabled()
    finally:
        if was:
            gc.enable()
        store.close()
    assert report.new == 1
    assert during == [False]
    assert after is enabled_before
