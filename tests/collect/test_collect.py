"""The whole collect stage against real HTTP on loopback and a real SQLite file."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipeline.clock import FakeClock
from pipeline.collect import FeedOutcome
from pipeline.errors import ConfigError
from pipeline.store.feeds import get_feed, list_feeds
from pipeline.store.items import get_item, list_items
from tests.collect.conftest import feed, fixture_bytes, serve, serve_when
from tests.conftest import SEED_ARTICLE

WP = fixture_bytes("wordpress-rss2.xml")
SEED_LINK = (
    "https://www.junge-buergermeister.example/2026/06/17/netzwerktreffen-der-jungen-buergermeister/"
)


def rss(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        "<link>https://www.junge-buergermeister.example/</link>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def item(guid: str, title: str, when: str, body: str = "Inhalt", link: str | None = None) -> str:
    link = link or f"https://www.junge-buergermeister.example/{guid}/"
    return (
        f"<item><title>{title}</title><link>{link}</link><guid isPermaLink='false'>{guid}</guid>"
        f"<pubDate>{when}</pubDate><description>{body}</description></item>"
    )


def test_wordpress_feed_keeps_german_text_byte_exact(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    report, store = run([feed("artikel", serve(httpserver, "/feed/", WP))])
    assert report.ok and report.new == 2 and report.feeds[0].status == "ok"
    seed = next(i for i in list_items(store) if i.link == SEED_LINK)
    assert seed.feed == "artikel" and seed.kind == "article" and seed.language == "de"
    assert seed.title == (
        "Kommunen als das Rückgrat unseres Staates: Das Netzwerk Junge Bürgermeister*innen"
    )
    assert seed.published_at == datetime(2026, 6, 17, 9, 12, 44, tzinfo=UTC)
    assert seed.tags == ("Gemeinschaft", "Jahreskonferenz")
    assert seed.author == "Redaktion NJB"
    assert seed.image_url == (
        "https://www.junge-buergermeister.example/wp-content/uploads/2023/06/netzwerktreffen-2023.jpg"
    )
    assert seed.image_credit == "©NJB/Sebastian Bolesch"
    assert seed.image_alt == "Gruppenbild beim Netzwerktreffen in Berlin"
    # every paragraph of the seed article arrives unchanged
    source = SEED_ARTICLE.read_text(encoding="utf-8")
    for sentence in (
        "Unter dem Motto „Mit starken Kommunen Zukunft gestalten“ behandelte die Konferenz",
        "Auf dem Weg zur „Kommune 2030“",
        "Moritz Zumpfort, Bereichsleiter Corporate Communications beim Netzwerktreffen 2023. ©Digitales Bürgernetz",
        "Das Netzwerk Junge Bürgermeister*innen ist ein Netzwerk von Bürgermeister*innen",
    ):
        assert sentence in source
        assert sentence in seed.content_html
    assert "„" in seed.content_html and "“" in seed.content_html and "©" in seed.content_html
    assert seed.summary.startswith("Das Netzwerk Junge Bürgermeister*innen ist ein Netzwerk")
    assert len(seed.summary) <= 320
    assert get_item(store, seed.id) == seed


@pytest.mark.parametrize(
    ("fixture", "content_type", "title"),
    [
        ("atom10.xml", "application/atom+xml", "Werkstattgespräch Kommune 2030 in Leipzig"),
        ("rss10.xml", "application/rdf+xml", "Junge Bürgermeister*innen fordern Verlängerung des Digitalpakts"),
        ("latin1.xml", "application/rss+xml", "Bürgermeister*innen in München: Straßenfest © 2026"),
    ],
)  # fmt: skip
def test_formats_and_encodings(
    httpserver: HTTPServer, run, fixture: str, content_type: str, title: str
) -> None:  # type: ignore[no-untyped-def]
    report, store = run([feed("f", serve(httpserver, "/f", fixture_bytes(fixture), content_type))])
    assert report.ok
    assert title in [i.title for i in list_items(store)]


def test_malformed_feed_stores_its_entries_with_a_warning(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    report, store = run([feed("f", serve(httpserver, "/f", fixture_bytes("malformed.xml")))])
    outcome = report.feeds[0]
    assert outcome.status == "ok" and outcome.warning and report.ok
    assert "Haushaltsklausur in Görlitz" in [i.title for i in list_items(store)]


def test_html_page_is_an_error_for_that_feed(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    url = serve(httpserver, "/", fixture_bytes("html-page.html"), "text/html; charset=utf-8")
    report, store = run([feed("start", url)])
    assert report.feeds[0].status == "error" and "HTML page" in (report.feeds[0].error or "")
    assert list_items(store) == []


def test_hostile_feed_is_stored_sanitized(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    _, store = run([feed("h", serve(httpserver, "/h", fixture_bytes("hostile.xml")))])
    (stored,) = list_items(store)
    assert stored.title == "Bürgerhaushalt 2026 & mehr"
    for forbidden in ("<script", "onclick", "javascript:", "<iframe", "<form", "<style", "data:"):
        assert forbidden not in stored.content_html
    assert stored.language == "de"  # the feed says none: the organisation's language


def test_feed_language_from_config_when_the_feed_says_none(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    url = serve(httpserver, "/h", fixture_bytes("hostile.xml"))
    _, store = run([feed("h", url, language="en")])
    assert [i.language for i in list_items(store)] == ["en"]


def test_one_failing_feed_does_not_stop_the_others(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    httpserver.expect_request("/broken").respond_with_data("nope", status=503)
    feeds = [
        feed("broken", httpserver.url_for("/broken")),
        feed("artikel", serve(httpserver, "/feed/", WP)),
        feed("presse", serve(httpserver, "/presse", fixture_bytes("rss10.xml")), "press_release"),
    ]
    report, store = run(feeds)
    assert not report.ok
    assert [f.status for f in report.feeds] == ["error", "ok", "ok"]
    assert report.new == 3
    assert {i.kind for i in list_items(store)} == {"article", "press_release"}


def test_consecutive_failures_flag_the_feed_and_success_clears_it(
    httpserver: HTTPServer, run
) -> None:  # type: ignore[no-untyped-def]
    httpserver.expect_request("/f").respond_with_data("nope", status=500)
    url = httpserver.url_for("/f")
    for expected in (1, 2):
        report, store = run([feed("f", url)], failures_before_flag=3)
        state = get_feed(store, "f")
        assert state is not None and state.failures == expected and not state.flagged
    report, store = run([feed("f", url)], failures_before_flag=3)
    state = get_feed(store, "f")
    assert state is not None and state.failures == 3 and state.flagged
    assert report.feeds[0].flagged and state.last_error == "HTTP 500 INTERNAL SERVER ERROR"
    httpserver.clear()
    run([feed("f", serve(httpserver, "/f", WP))], failures_before_flag=3)
    state = get_feed(store, "f")
    assert state is not None and (state.failures, state.flagged, state.last_error) == (
        0,
        False,
        None,
    )


def test_same_article_in_two_feeds_is_one_item(threaded_httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    httpserver = threaded_httpserver
    link = "https://www.junge-buergermeister.example/2026/06/gemeinsam/"
    a = rss(item("a-1", "Gemeinsamer Beitrag", "Thu, 18 Jun 2026 08:00:00 GMT", link=link))
    b = rss(
        item(
            "b-9",
            "Gemeinsamer Beitrag (Kategorie)",
            "Thu, 18 Jun 2026 08:00:00 GMT",
            link=link + "?utm_source=rss",
        )
    )
    b_stored = threading.Event()
    stored: list[str] = []

    def progress(outcome: FeedOutcome, _done: int, _total: int) -> None:
        stored.append(outcome.name)
        b_stored.set()

    # real concurrency, and a (configured first) answers only once b is stored: a still
    # owns the article, taking it over from b
    report, store = run(
        [
            feed("a", serve_when(httpserver, "/a", a, b_stored), kind="press_release"),
            feed("b", serve(httpserver, "/b", b)),
        ],
        progress=progress,
    )
    assert stored == ["b", "a"]
    assert [(f.name, f.new, f.updated, f.duplicates) for f in report.feeds] == [
        ("a", 0, 1, 0),
        ("b", 1, 0, 0),
    ]
    (only,) = list_items(store)
    assert (only.feed, only.kind, only.title) == ("a", "press_release", "Gemeinsamer Beitrag")


def test_an_earlier_feed_takes_over_an_article_in_a_later_run(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    link = "https://www.junge-buergermeister.example/2026/06/gemeinsam/"
    a = rss(item("a-1", "Gemeinsamer Beitrag", "Thu, 18 Jun 2026 08:00:00 GMT", link=link))
    b = rss(
        item("b-9", "Gemeinsamer Beitrag (Kategorie)", "Thu, 18 Jun 2026 08:00:00 GMT", link=link)
    )
    answers = [Response("Fehler", status=500), Response(a, content_type="application/rss+xml")]
    httpserver.expect_request("/a").respond_with_handler(lambda _request: answers.pop(0))
    feeds = [
        feed("a", httpserver.url_for("/a"), kind="event_report"),
        feed("b", serve(httpserver, "/b", b)),
    ]
    first, store = run(feeds)  # a is down: b's copy is the item
    assert first.feeds[0].status == "error"
    (before,) = list_items(store)
    second, _ = run(feeds)  # b's body is unchanged; a now carries the article
    (after,) = list_items(store)
    assert (before.feed, before.kind) == ("b", "article")
    assert [(f.name, f.status, f.new, f.updated) for f in second.feeds] == [
        ("a", "ok", 0, 1),
        ("b", "not_modified", 0, 0),
    ]
    assert after.id == before.id
    assert (after.feed, after.kind, after.title) == ("a", "event_report", "Gemeinsamer Beitrag")


def test_edited_entry_updates_the_item(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    bodies = [
        rss(item("x-1", "Haushalt 2026", "Thu, 18 Jun 2026 08:00:00 GMT", "Erste Fassung")),
        rss(
            item(
                "x-1",
                "Haushalt 2026 (korrigiert)",
                "Thu, 18 Jun 2026 08:00:00 GMT",
                "Zweite Fassung",
            )
        ),
    ]

    def handler(_request: Request) -> Response:
        return Response(bodies.pop(0), content_type="application/rss+xml")

    httpserver.expect_request("/x").respond_with_handler(handler)
    url = httpserver.url_for("/x")
    first, store = run([feed("x", url)])
    (before,) = list_items(store)
    second, _ = run([feed("x", url)])
    (after,) = list_items(store)
    assert (first.new, second.new, second.updated) == (1, 0, 1)
    assert after.id == before.id
    assert (after.title, after.summary) == ("Haushalt 2026 (korrigiert)", "Zweite Fassung")


def test_future_dated_entry_waits_until_its_date(
    httpserver: HTTPServer, run, clock: FakeClock
) -> None:  # type: ignore[no-untyped-def]
    body = rss(
        item("now-1", "Heute", "Thu, 18 Jun 2026 08:00:00 GMT"),
        item("later-1", "Übermorgen", "Sun, 21 Jun 2026 08:00:00 GMT"),
    )
    report, store = run([feed("f", serve(httpserver, "/f", body))])
    assert report.new == 2 and report.feeds[0].waiting == 1
    titles = [i.title for i in list_items(store, eligible_only=True, now=clock.now())]
    assert titles == ["Heute"]
    clock.advance(days=3)
    titles = [i.title for i in list_items(store, eligible_only=True, now=clock.now())]
    assert titles == ["Übermorgen", "Heute"]


def test_new_feed_does_not_flood_the_next_mailing(
    httpserver: HTTPServer, run, clock: FakeClock
) -> None:  # type: ignore[no-untyped-def]
    old = (clock.now() - timedelta(days=40)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    body = rss(item("old-1", "Archiv", old), item("new-1", "Neu", "Thu, 18 Jun 2026 08:00:00 GMT"))
    report, store = run([feed("f", serve(httpserver, "/f", body))], backfill_days=14)
    assert report.new == 2 and report.feeds[0].backfilled == 1
    assert [i.title for i in list_items(store, eligible_only=True, now=clock.now())] == ["Neu"]
    assert {i.title: i.eligible for i in list_items(store)} == {"Archiv": False, "Neu": True}


def test_feeds_follow_the_configuration(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    a, b = serve(httpserver, "/a", WP), serve(httpserver, "/b", fixture_bytes("rss10.xml"))
    report, store = run([feed("a", a), feed("b", b, "press_release")])
    assert [f.name for f in report.feeds] == ["a", "b"]
    report, _ = run([feed("b", b, "press_release"), feed("c", a, enabled=False)])
    assert [f.name for f in report.feeds] == ["b"]
    states = {s.name: s for s in list_feeds(store)}
    assert not states["a"].in_config and states["b"].in_config and not states["c"].enabled
    assert {i.feed for i in list_items(store)} == {"a", "b"}  # items of removed feeds stay


def test_feed_names_select_feeds_and_unknown_names_are_config_errors(
    httpserver: HTTPServer, run
) -> None:  # type: ignore[no-untyped-def]
    feeds = [feed("a", serve(httpserver, "/a", WP)), feed("b", serve(httpserver, "/b", WP))]
    report, _ = run(feeds, names=["b"])
    assert [f.name for f in report.feeds] == ["b"]
    with pytest.raises(ConfigError, match="unknown feed 'zzz'"):
        run(feeds, names=["zzz"])
