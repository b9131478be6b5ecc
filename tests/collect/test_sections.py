"""A collect run is built from ``[collect]``, the feeds and ``[organisation]`` alone.

``collect(settings, ...)`` only splits the configuration; ``collect_feeds`` and
everything below it take no ``Settings`` (tests/deliver/test_sections checks the
modules' imports).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from pipeline.clock import FakeClock
from pipeline.collect import collect_feeds
from pipeline.config import Collect, Organisation
from pipeline.errors import ConfigError
from pipeline.store import Store
from pipeline.store.feeds import ConfiguredFeed, list_feeds
from pipeline.store.items import count_items
from tests.collect.conftest import RSS, fixture_bytes

ORGANISATION = Organisation(
    name="Kommune",
    website="https://kommune.example",
    postal_address="Marktplatz 1, 12345 Musterstadt",
    imprint_url="https://kommune.example/impressum",
    language="en",
)


def test_a_run_from_the_collect_section_and_its_feeds(
    tmp_path: Path, httpserver: HTTPServer, clock: FakeClock
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        fixture_bytes("wordpress-rss2.xml"), content_type=RSS
    )
    feeds = [
        ConfiguredFeed(name="blog", url=httpserver.url_for("/feed.xml"), kind="article"),
        ConfiguredFeed(
            name="idle", url=httpserver.url_for("/idle.xml"), kind="article", enabled=False
        ),
    ]
    store = Store.open(f"sqlite:///{tmp_path / 'collect.db'}")
    try:
        report = collect_feeds(
            Collect(timeout=5, concurrency=1),
            feeds,
            store,
            organisation=ORGANISATION,
            clock=clock,
        )
        assert [(o.name, o.status) for o in report.feeds] == [("blog", "ok")]
        assert report.feeds[0].new == count_items(store) > 0
        assert {s.name for s in list_feeds(store, names=["blog", "idle"])} == {"blog", "idle"}
        request = httpserver.log[0][0]
        assert "kommune.example" in request.headers["User-Agent"]
        with pytest.raises(
            ConfigError, match=r"unknown feed 'nope' \(configured feeds: blog, idle\)"
        ):
            collect_feeds(
                Collect(), feeds, store, organisation=ORGANISATION, clock=clock, feed_names=["nope"]
            )
    finally:
        store.close()
