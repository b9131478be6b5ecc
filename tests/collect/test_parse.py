"""Parsing the golden feed files: every format, encodings, broken feeds, non-feeds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.collect.parse import parse_feed
from pipeline.errors import FeedError
from tests.collect.conftest import fixture_bytes

URL = "https://www.junge-buergermeister.example/feed/"


def test_wordpress_rss2_yields_content_categories_and_media_credit() -> None:
    parsed = parse_feed(fixture_bytes("wordpress-rss2.xml"), url=URL)
    assert parsed.version == "rss20"
    assert parsed.language == "de"
    seed = parsed.entries[0]
    assert seed.guid == "https://www.junge-buergermeister.example/?p=4711"
    assert seed.title == (
        "Kommunen als das Rückgrat unseres Staates: Das Netzwerk Junge Bürgermeister*innen"
    )
    assert seed.tags == ("Gemeinschaft", "Jahreskonferenz")
    assert seed.author == "Redaktion NJB"
    assert seed.published == datetime(2026, 6, 17, 9, 12, 44, tzinfo=UTC)
    assert "„Mit starken Kommunen Zukunft gestalten“" in seed.content_html
    assert seed.images[0].credit == "©NJB/Sebastian Bolesch"
    assert seed.images[0].url.endswith("/2023/06/netzwerktreffen-2023.jpg")


def test_atom10_dates_with_offsets_become_utc_and_xml_base_is_kept() -> None:
    parsed = parse_feed(fixture_bytes("atom10.xml"), url=URL)
    assert parsed.version == "atom10"
    first, second = parsed.entries
    assert first.published == datetime(2026, 6, 16, 16, 30, tzinfo=UTC)
    assert first.updated == datetime(2026, 6, 17, 7, 0, tzinfo=UTC)
    assert first.base_url == "https://www.junge-buergermeister.example/"
    assert first.images[0].url.endswith("/bilder/werkstatt-leipzig.jpg")  # enclosure
    assert second.published is None and second.updated is not None
    assert "Über 80 Gäste" in second.content_html


def test_rss10_rdf() -> None:
    parsed = parse_feed(fixture_bytes("rss10.xml"), url=URL)
    assert parsed.version == "rss10"
    (entry,) = parsed.entries
    assert entry.title == "Junge Bürgermeister*innen fordern Verlängerung des Digitalpakts"
    assert entry.author == "Jana Köhler"
    assert entry.updated == datetime(2026, 6, 15, 8, 0, tzinfo=UTC)


def test_iso_8859_1_feed_is_decoded_by_its_declaration() -> None:
    parsed = parse_feed(fixture_bytes("latin1.xml"), url=URL)
    (entry,) = parsed.entries
    assert entry.title == "Bürgermeister*innen in München: Straßenfest © 2026"
    assert "«Leberkäs»" in entry.summary_html


def test_http_charset_header_is_honoured() -> None:
    body = fixture_bytes("latin1.xml").replace(b' encoding="ISO-8859-1"', b"")
    parsed = parse_feed(body, url=URL, content_type="application/rss+xml; charset=iso-8859-1")
    assert parsed.entries[0].title.startswith("Bürgermeister*innen in München")


def test_malformed_feed_with_entries_yields_them_with_a_warning() -> None:
    parsed = parse_feed(fixture_bytes("malformed.xml"), url=URL)
    assert parsed.warning and "line" in parsed.warning
    titles = [e.title for e in parsed.entries]
    assert "Haushaltsklausur in Görlitz" in titles


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(FeedError, match="HTML page"):
        parse_feed(fixture_bytes("html-page.html"), url=URL, name="start")


@pytest.mark.parametrize("body", [b"", b"garbage \x00\x01", b"<?xml version='1.0'?><nothing/>"])
def test_garbage_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(FeedError, match=r"not a feed|malformed"):
        parse_feed(body, url=URL)
