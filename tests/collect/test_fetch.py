"""Fetching against a real HTTP server on loopback: errors, limits, redirects, 304."""

from __future__ import annotations

import gzip
import time
import zlib
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipeline.store.feeds import get_feed
from tests.collect.conftest import feed, fixture_bytes, serve

WP = fixture_bytes("wordpress-rss2.xml")


def test_user_agent_names_rundbrief(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def handler(request: Request) -> Response:
        seen.append(request.headers.get("User-Agent", ""))
        return Response(WP, content_type="application/rss+xml")

    httpserver.expect_request("/feed").respond_with_handler(handler)
    report, _ = run([feed("wp", httpserver.url_for("/feed"))])
    assert report.ok
    assert seen[0].startswith("Rundbrief/")


def test_server_error_is_recorded_on_the_feed(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    httpserver.expect_request("/feed").respond_with_data("kaputt", status=500)
    report, store = run([feed("wp", httpserver.url_for("/feed"))])
    (outcome,) = report.feeds
    assert outcome.status == "error" and outcome.error == "HTTP 500 INTERNAL SERVER ERROR"
    state = get_feed(store, "wp")
    assert state is not None and state.failures == 1 and state.last_error == outcome.error


def test_slow_server_times_out(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    def slow(_request: Request) -> Response:
        time.sleep(1.5)
        return Response(WP, content_type="application/rss+xml")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    started = time.monotonic()
    report, _ = run([feed("slow", httpserver.url_for("/slow"))], timeout=0.3)
    assert time.monotonic() - started < 1.4
    assert report.feeds[0].status == "error"
    assert "timed out" in (report.feeds[0].error or "")


def test_trickling_body_hits_the_overall_deadline(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    def trickle(_request: Request) -> Response:
        def chunks():  # type: ignore[no-untyped-def]
            for _ in range(40):
                time.sleep(0.05)
                yield b" " * 10

        return Response(chunks(), content_type="application/rss+xml")

    httpserver.expect_request("/trickle").respond_with_handler(trickle)
    report, _ = run([feed("t", httpserver.url_for("/trickle"))], timeout=0.5)
    assert "timed out" in (report.feeds[0].error or "")


def test_oversized_body_is_refused(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    serve(httpserver, "/big", b"<rss>" + b"x" * 300_000)
    report, _ = run([feed("big", httpserver.url_for("/big"))], max_bytes=100_000)
    assert "max_bytes" in (report.feeds[0].error or "")


def test_oversized_streamed_body_without_length_is_cut(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    def stream(_request: Request) -> Response:
        return Response((b"x" * 10_000 for _ in range(100)), content_type="application/rss+xml")

    httpserver.expect_request("/stream").respond_with_handler(stream)
    report, _ = run([feed("s", httpserver.url_for("/stream"))], max_bytes=50_000)
    assert "max_bytes" in (report.feeds[0].error or "")


def test_gzip_bomb_is_stopped_at_the_limit(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    bomb = gzip.compress(b"\0" * 30_000_000, compresslevel=9)
    assert len(bomb) < 100_000
    serve(httpserver, "/bomb", bomb, **{"Content-Encoding": "gzip"})
    report, _ = run([feed("bomb", httpserver.url_for("/bomb"))], max_bytes=1_000_000)
    error = report.feeds[0].error or ""
    assert "max_bytes" in error and "gzip" in error


def test_gzip_feed_within_the_limit_is_read(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    serve(httpserver, "/gz", gzip.compress(WP), **{"Content-Encoding": "gzip"})
    report, _ = run([feed("gz", httpserver.url_for("/gz"))])
    assert report.feeds[0].status == "ok" and report.new == 2


def test_permanent_redirect_updates_the_stored_url(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    new_url = serve(httpserver, "/neu/feed", WP)
    httpserver.expect_request("/alt/feed").respond_with_data(
        "", status=301, headers={"Location": new_url}
    )
    old_url = httpserver.url_for("/alt/feed")
    report, store = run([feed("wp", old_url)])
    assert report.feeds[0].status == "ok" and report.feeds[0].moved_to == new_url
    state = get_feed(store, "wp")
    assert state is not None and state.url == new_url
    # the next run goes straight to the new URL
    report, _ = run([feed("wp", old_url)])
    assert report.feeds[0].status == "not_modified"
    assert [r.path for r, _ in httpserver.log].count("/alt/feed") == 1


def test_temporary_redirect_keeps_the_url(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    target = serve(httpserver, "/tmp-target", WP)
    httpserver.expect_request("/feed").respond_with_data(
        "", status=302, headers={"Location": target}
    )
    report, store = run([feed("wp", httpserver.url_for("/feed"))])
    assert report.ok and report.feeds[0].moved_to is None
    assert get_feed(store, "wp").url == httpserver.url_for("/feed")  # type: ignore[union-attr]


def test_308_counts_as_permanent(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    target = serve(httpserver, "/b", WP)
    httpserver.expect_request("/a").respond_with_data("", status=308, headers={"Location": target})
    _, store = run([feed("wp", httpserver.url_for("/a"))])
    assert get_feed(store, "wp").url == target  # type: ignore[union-attr]


def test_410_disables_the_feed_until_its_url_changes(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    httpserver.expect_request("/gone").respond_with_data("weg", status=410)
    gone = httpserver.url_for("/gone")
    report, store = run([feed("wp", gone)])
    assert report.feeds[0].status == "error" and "410" in (report.feeds[0].error or "")
    state = get_feed(store, "wp")
    assert state is not None and state.disabled_reason
    report, _ = run([feed("wp", gone)])
    assert report.feeds == []  # not fetched any more
    assert len(httpserver.log) == 1
    # the operator points the feed elsewhere: it is fetched again
    report, _ = run([feed("wp", serve(httpserver, "/new", WP))])
    assert report.feeds[0].status == "ok"


def test_etag_and_last_modified_round_trip_to_304(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    etag = '"v1"'
    modified = "Wed, 17 Jun 2026 09:12:44 GMT"
    seen: list[tuple[str | None, str | None]] = []

    def handler(request: Request) -> Response:
        seen.append(
            (request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since"))
        )
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304)
        return Response(
            WP,
            content_type="application/rss+xml",
            headers={"ETag": etag, "Last-Modified": modified},
        )

    httpserver.expect_request("/feed").respond_with_handler(handler)
    url = httpserver.url_for("/feed")
    first, store = run([feed("wp", url)])
    second, _ = run([feed("wp", url)])
    assert first.feeds[0].status == "ok" and first.new == 2
    assert second.feeds[0].status == "not_modified" and second.new == 0
    assert seen == [(None, None), (etag, modified)]
    state = get_feed(store, "wp")
    assert state is not None and (state.etag, state.last_modified) == (etag, modified)


def test_identical_body_without_304_is_not_parsed_again(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    url = serve(httpserver, "/feed", WP)
    run([feed("wp", url)])
    report, _ = run([feed("wp", url)])
    assert report.feeds[0].status == "not_modified"


def test_file_urls_and_plain_paths(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "a.xml").write_bytes(WP)
    (tmp_path / "feeds" / "b.xml").write_bytes(fixture_bytes("atom10.xml"))
    report, _ = run(
        [
            feed("relative", "feeds/a.xml"),
            feed("file-url", (tmp_path / "feeds" / "b.xml").as_uri()),
            feed("missing", "feeds/nichts.xml"),
        ]
    )
    statuses = {f.name: (f.status, f.error) for f in report.feeds}
    assert statuses["relative"] == ("ok", None)
    assert statuses["file-url"] == ("ok", None)
    assert statuses["missing"][0] == "error" and "file not found" in statuses["missing"][1]
    again, _ = run([feed("relative", "feeds/a.xml")])
    assert again.feeds[0].status == "not_modified"


def test_connection_refused_is_an_error_for_that_feed(run) -> None:  # type: ignore[no-untyped-def]
    report, _ = run([feed("closed", "http://127.0.0.1:9/feed")])
    assert report.feeds[0].status == "error"
    assert "cannot connect" in (report.feeds[0].error or "")


def test_deflate_body_is_read(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    serve(httpserver, "/d", zlib.compress(WP), **{"Content-Encoding": "deflate"})
    report, _ = run([feed("d", httpserver.url_for("/d"))])
    assert report.feeds[0].status == "ok" and report.new == 2


def test_unknown_content_encoding_is_an_error(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    serve(httpserver, "/br", b"\x0b\x02\x80", **{"Content-Encoding": "br"})
    report, _ = run([feed("br", httpserver.url_for("/br"))])
    assert "unsupported Content-Encoding 'br'" in (report.feeds[0].error or "")


def test_corrupt_gzip_is_an_error(httpserver: HTTPServer, run) -> None:  # type: ignore[no-untyped-def]
    serve(httpserver, "/gz", b"\x1f\x8b\x08\x00garbage-not-gzip", **{"Content-Encoding": "gzip"})
    report, _ = run([feed("gz", httpserver.url_for("/gz"))])
    assert "corrupt gzip body" in (report.feeds[0].error or "")
