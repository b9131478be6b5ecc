"""Sanitizing hostile feed HTML, absolute URLs, summaries, lead images and credits."""

from __future__ import annotations

import re

import pytest

from pipeline.collect.parse import parse_feed
from pipeline.collect.sanitize import (
    absolute_url,
    clean_entry,
    credit_in,
    html_to_text,
    sanitize_html,
    truncate,
)
from tests.collect.conftest import fixture_bytes

URL = "https://www.junge-buergermeister.example/feed/"
BASE = "https://www.junge-buergermeister.example/2026/06/artikel/"


def hostile():  # type: ignore[no-untyped-def]
    parsed = parse_feed(fixture_bytes("hostile.xml"), url=URL)
    return clean_entry(parsed.entries[0], site=parsed.link, feed_url=URL)


def test_hostile_content_loses_every_active_part() -> None:
    html = hostile().content_html.lower()
    for forbidden in (
        "<script", "document.cookie", "onclick", "onerror", "onload", "<style", "display:none",
        "<iframe", "<form", "<input", "<button", "javascript:", "data:", "<object", "<embed",
        "<svg", "<link", "stylesheet", "style=", "evil.example", "tracker.example",
    ):  # fmt: skip
        assert forbidden not in html, forbidden
    assert "Der Bürgerhaushalt startet." in hostile().content_html
    assert "Gez. Bürgermeister*innen ©Stadt Musterhausen" in hostile().content_html


def test_hostile_title_and_summary_become_plain_text() -> None:
    clean = hostile()
    assert clean.title == "Bürgerhaushalt 2026 & mehr"
    assert clean.summary == "Kurz & knapp"


def test_relative_urls_become_absolute_and_links_get_rel() -> None:
    html = hostile().content_html
    assert 'href="https://www.junge-buergermeister.example/mitmachen/"' in html
    assert 'src="https://www.junge-buergermeister.example/bilder/haushalt.jpg"' in html
    assert 'rel="noopener noreferrer"' in html
    assert 'target="_blank"' not in html


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('<a href="../liste.html">x</a>', 'href="https://www.junge-buergermeister.example/2026/06/liste.html"'),
        ('<img src="bild.jpg" alt="a">', 'src="https://www.junge-buergermeister.example/2026/06/artikel/bild.jpg"'),
        ('<a href="//cdn.example/x">x</a>', 'href="https://cdn.example/x"'),
        ('<a href="mailto:presse@junge-buergermeister.example">m</a>', 'href="mailto:presse@'),
    ],
)  # fmt: skip
def test_urls_resolved_against_the_entry(raw: str, expected: str) -> None:
    assert expected in sanitize_html(raw, BASE)


def test_relative_urls_are_dropped_without_a_web_base() -> None:
    assert "href" not in sanitize_html('<a href="/x">x</a>', None)


def test_tracking_pixel_and_data_images_are_removed() -> None:
    html = sanitize_html(
        '<p>Text</p><img src="https://t.example/p.gif" width="1" height="1">'
        '<img src="data:image/png;base64,AAAA" alt="x"><img src="/echt.jpg" alt="Echt">',
        BASE,
    )
    assert "t.example" not in html and "data:" not in html
    assert html.count("<img") == 1


def test_german_text_survives_exactly() -> None:
    text = "„Mit starken Kommunen Zukunft gestalten“ – Bürgermeister*innen ©NJB/Sebastian Bolesch"
    assert sanitize_html(f"<p>{text}</p>", BASE) == f"<p>{text}</p>"
    assert html_to_text(f"<p>{text}</p>") == text


@pytest.mark.parametrize("raw", [False, True])
def test_every_kind_of_whitespace_collapses_to_one_space(raw: bool) -> None:
    messy = " \t„Kommune\u00a02030“\u2009–\n\r\x0b Fördermittel\u3000beantragen\x1f "
    expected = "„Kommune 2030“ – Fördermittel beantragen"
    assert html_to_text(messy, raw=raw) == expected
    assert html_to_text(f"<p>{messy}</p><p>&nbsp;mehr&#8239;dazu</p>", raw=raw) == (
        expected + " mehr dazu"
    )


def test_summary_is_bounded_at_a_word_boundary() -> None:
    text = "Das Netzwerk Junge Bürgermeister*innen ist ein Netzwerk " * 20
    short = truncate(text, 120)
    assert len(short) <= 120
    assert short.endswith("…")
    assert not short[:-1].endswith(" ")


def test_read_more_marker_is_replaced_by_an_ellipsis() -> None:
    assert truncate("Am 12. Juni trafen sich die Bürgermeister*innen […]", 300) == (
        "Am 12. Juni trafen sich die Bürgermeister*innen…"
    )


@pytest.mark.parametrize(
    ("text", "credit"),
    [
        ("… fand am 15. und 16. Juni in Berlin statt. ©NJB/Sebastian Bolesch", "©NJB/Sebastian Bolesch"),
        ("Foto: ©NJB/Anna Weber", "©NJB/Anna Weber"),
        ("Foto: Stadt Musterhausen", "Foto: Stadt Musterhausen"),
        ("Ein Satz ohne Angabe.", None),
    ],
)  # fmt: skip
def test_credit_lines(text: str, credit: str | None) -> None:
    assert credit_in(text) == credit


def test_lead_image_from_first_image_and_its_caption_credit() -> None:
    body = (
        fixture_bytes("wordpress-rss2.xml")
        .replace(b"<media:content", b"<media:ignored")
        .replace(b"</media:content>", b"</media:ignored>")
    )
    parsed = parse_feed(body, url=URL)
    clean = clean_entry(parsed.entries[0], site=parsed.link, feed_url=URL)
    assert clean.image_url == (
        "https://www.junge-buergermeister.example/wp-content/uploads/2023/06/netzwerktreffen-2023.jpg"
    )
    assert clean.image_alt == "Gruppenbild beim Netzwerktreffen in Berlin"
    assert clean.image_credit == "©NJB/Sebastian Bolesch"


def test_only_http_links_are_kept() -> None:
    assert absolute_url("javascript:alert(1)", BASE) is None
    assert absolute_url("/a", "") is None
    assert absolute_url("/a", BASE) == "https://www.junge-buergermeister.example/a"


def test_lazy_loaded_images_get_their_real_source() -> None:
    html = sanitize_html(
        '<p><img src="data:image/svg+xml;base64,PHN2Zz4=" data-src="/bilder/rathaus.jpg" '
        'alt="Rathaus"><img data-lazy-src="https://www.junge-buergermeister.example/b.jpg" '
        'src="/platzhalter.gif" alt="B"></p>',
        BASE,
    )
    assert 'src="https://www.junge-buergermeister.example/bilder/rathaus.jpg"' in html
    assert 'src="https://www.junge-buergermeister.example/b.jpg"' in html
    assert "data:" not in html and "platzhalter" not in html and "data-src" not in html


def test_embedded_videos_become_links_other_iframes_vanish() -> None:
    html = sanitize_html(
        '<iframe width="560" src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?rel=0" '
        'allowfullscreen></iframe><iframe src="https://player.vimeo.com/video/76979871"></iframe>'
        '<iframe src="https://evil.example/frame"></iframe><p>Text</p>',
        BASE,
    )
    assert '<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ"' in html
    assert '<a href="https://vimeo.com/76979871"' in html
    assert "iframe" not in html and "evil.example" not in html


@pytest.mark.parametrize(
    "text",
    [
        "Am 12. Juni trafen sich die Bürgermeister*innen […]",
        "Am 12. Juni trafen sich die Bürgermeister*innen   [...]  \n",
        "Fördermittel beantragen …",
        "Fördermittel beantragen....",
        "Fördermittel … beantragen … Weiterlesen »",
        "Kommune 2030 Weiterlesen\n",
        "Der Text endet mit einem Punkt.",
        "\u00a0[…]",
        "",
    ],
)
def test_read_more_marker_cut_like_the_whitespace_greedy_pattern(text: str) -> None:
    reference = re.compile(r"\s*(\[(?:…|\.\.\.)\]|…|\.\.\.|Weiterlesen\W*)\s*$")
    shortened = reference.sub("", text).strip()
    cut = shortened != text.strip() and shortened[-1:] not in ("", ".", "!", "?")
    assert truncate(text, 300) == (shortened + "…" if cut else shortened)
