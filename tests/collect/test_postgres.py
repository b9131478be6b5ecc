"""The same collect code on PostgreSQL: items, duplicates, edits, feed state."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from pipeline.clock import FakeClock
from pipeline.collect import collect
from pipeline.store import Store
from pipeline.store.feeds import get_feed
from pipeline.store.items import list_items
from tests.collect.conftest import feed, fixture_bytes, serve
from tests.support.settings import make_settings

pytestmark = pytest.mark.postgres


def test_collect_on_postgresql(
    tmp_path: Path, httpserver: HTTPServer, pg_url: str, clock: FakeClock
) -> None:
    wp = fixture_bytes("wordpress-rss2.xml")
    bodies = [wp, wp.replace(b"Erfahrungsaustausch in Eberswalde", b"Austausch in Eberswalde")]
    httpserver.expect_request("/feed/").respond_with_handler(
        lambda _request: Response(bodies.pop(0), content_type="application/rss+xml")
    )
    feeds = [
        feed("artikel", httpserver.url_for("/feed/")),
        feed("atom", serve(httpserver, "/atom", fixture_bytes("atom10.xml")), "event_report"),
        feed("kaputt", serve(httpserver, "/html", fixture_bytes("html-page.html"), "text/html")),
    ]
    settings = make_settings(tmp_path, storage={"url": pg_url}, feeds=feeds)
    store = Store.open(pg_url)
    try:
        first = collect(settings, store, clock=clock)
        assert [f.status for f in first.feeds] == ["ok", "ok", "error"] and first.new == 4
        second = collect(settings, store, clock=clock)
        assert (second.new, second.updated) == (0, 1)
        titles = {i.title for i in list_items(store, eligible_only=True, now=clock.now())}
        assert "Wärmeplanung: Austausch in Eberswalde" in titles
        seed = next(i for i in list_items(store, kind="article") if "Rückgrat" in i.title)
        assert seed.image_credit == "©NJB/Sebastian Bolesch"
        assert seed.tags == ("Gemeinschaft", "Jahreskonferenz")
        state = get_feed(store, "kaputt")
        assert state is not None and state.failures == 2
    finally:
        store.close()
