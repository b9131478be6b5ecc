"""The fast path must read every golden file exactly as feedparser does."""

from __future__ import annotations

import calendar
import contextlib
from datetime import UTC, datetime

import pytest
from feedparser.datetimes import _parse_date as feedparser_date
from feedparser.html import _cp1252

from pipeline.collect.fastparse import Unsupported, _clean, _date, fast_parse
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


def _reference_clean(value: str) -> str:
    """The repairs spelled out plainly: Latin-1 round trip, then C1 → Windows-1252."""
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        value = value.encode("iso-8859-1").decode("utf-8")
    return value.translate(_cp1252)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("BÃ¼rgermeister*innen", "Bürgermeister*innen"),  # UTF-8 read as Latin-1
        ("Ã¢â‚¬Å¾", "Ã¢â‚¬Å¾"),  # read as Windows-1252: not ours to guess
        ("\u00e2\u0080\u009eZitat\u00e2\u0080\u009c", "„Zitat“"),  # mojibake of „…“
        ("\x93Zitat\x94 \x80 5", "“Zitat” € 5"),  # C1 controls in their cp1252 meaning
        ("„Bürger*innen“ ©NJB/Sebastian Bolesch", "„Bürger*innen“ ©NJB/Sebastian Bolesch"),
        ("Ã¼ neben „Anführung“", "Ã¼ neben „Anführung“"),  # not Latin-1: left alone
        ("Straße © 2026, Größe", "Straße © 2026, Größe"),
        ("plain ASCII", "plain ASCII"),
    ],
)
def test_clean_repairs_what_feedparser_repairs(value: str, expected: str) -> None:
    assert _clean(value) == expected == _reference_clean(value)


def test_clean_equals_the_plain_repairs_on_every_latin1_pair() -> None:
    high = [chr(c) for c in range(0x80, 0x100)]
    for first in high:
        for second in [*high, "a", "„"]:
            for value in (first + second, f"x{first}{second}y", first + second + "\x85"):
                assert _clean(value) == _reference_clean(value), repr(value)
