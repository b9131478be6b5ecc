"""The fast path must read every golden file exactly as feedparser does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.collect.fastparse import Unsupported, fast_parse
from pipeline.collect.parse import parse_with_feedparser
from tests.collect.conftest import fixture_bytes

URL = "https://www.junge-buergermeister.example/feed/"


@pytest.mark.parametrize("name", ["wordpress-rss2.xml", "atom10.xml", "rss10.xml", "hostile.xml"])
def test_fast_path_equals_feedparser(name: str) -> None:
    body = fixture_bytes(name)
    fast = fast_parse(body, url=URL, content_type="application/xml")
    slow = parse_with_feedparser(body, url=URL, content_type="application/xml")
    assert fast.entries == slow.entries
    assert (fast.title, fast.link, fast.language) == (slow.title, slow.link, slow.language)


def test_bench_feed_parses_the_same() -> None:
    from bench.collect import make_feed

    body = make_feed(3, 20, datetime(2026, 6, 19, tzinfo=UTC))
    url = "http://127.0.0.1:8000/feed/3.xml"
    assert fast_parse(body, url=url, content_type=None).entries == (
        parse_with_feedparser(body, url=url).entries
    )


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (fixture_bytes("malformed.xml"), None),  # not well-formed
        (fixture_bytes("html-page.html"), "text/html"),
        (fixture_bytes("latin1.xml"), None),  # left to feedparser
        (fixture_bytes("wordpress-rss2.xml"), "application/rss+xml; charset=iso-8859-1"),
        (b'<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"/>', None),
        (b'<rss version="2.0"><channel><item><itunes:summary xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">x</itunes:summary></item></channel></rss>', None),
        (b'<rss version="2.0"><channel><item><description>a <b>b</b></description></item></channel></rss>', None),
        (b'<feed xmlns="http://purl.org/atom/ns#"><title>Atom 0.3</title></feed>', None),
    ],
)  # fmt: skip
def test_anything_unusual_goes_to_feedparser(body: bytes, content_type: str | None) -> None:
    with pytest.raises(Unsupported):
        fast_parse(body, url=URL, content_type=content_type)
