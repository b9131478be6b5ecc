"""The fast path must read every golden file exactly as feedparser does."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

import pytest
from feedparser.datetimes import _parse_date as feedparser_date

from pipeline.collect.fastparse import Unsupported, _date, fast_parse
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


@pytest.mark.parametrize(
    "value",
    [
        "Wed, 17 Jun 2026 09:12:44 +0000",
        "Mon, 15 Jun 2026 08:00:00 +0200",
        "Thu, 18 Jun 2026 07:00:00 GMT",
        "1 Jan 2026 00:00 -0530",
        "2026-06-16T18:30:00+02:00",
        "2026-06-10T20:00:00.123Z",
        "Wed, 17 Jun 2026 09:12:44 CEST",  # left to feedparser
        "17.06.2026",
    ],
)
def test_dates_read_like_feedparser(value: str) -> None:
    expected = feedparser_date(value)
    assert _date(value) == (
        datetime.fromtimestamp(calendar.timegm(expected), UTC) if expected else None
    )
