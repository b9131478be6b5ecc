"""The editors' start page: last mailings, the lists over twelve months, feeds, daemon."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from pipeline.access import Actor, Role
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from pipeline.store.feeds import ConfiguredFeed, get_feed, record_failure, sync_feeds
from pipeline.subscribers import Subscribers
from pipeline.subscribers.growth import month_starts
from pipeline.web.chart import line_chart, nice_ceiling
from tests.support.web import csrf_from, login, seed_mailing

ADMIN = Actor("dora@junge-buergermeister.example", Role.ADMIN)


@pytest.fixture
def clock() -> FakeClock:
    # The members join over the year before the test's "today" (19 June 2026).
    return FakeClock(datetime(2025, 6, 10, 9, 0, tzinfo=UTC))


@pytest.fixture
def editor(client: FlaskClient) -> FlaskClient:
    login(client)
    return client


def _members(tmp_path: Path, name: str, addresses: list[str]) -> Path:
    path = tmp_path / name
    rows = "".join(f"{a},{a.split('@')[0].title()}\n" for a in addresses)
    path.write_text("email,first_name\n" + rows, encoding="utf-8")
    return path


def _grow(settings: Settings, store: Store, clock: FakeClock, tmp_path: Path) -> None:
    people = Subscribers(settings, store, clock)
    first = [f"mitglied{i}@example.org" for i in range(3)]
    people.import_csv(_members(tmp_path, "a.csv", first), by=ADMIN, list_name="members")
    clock.advance(days=219)  # 15 January 2026
    later = ["neu1@example.org", "neu2@example.org"]
    people.import_csv(_members(tmp_path, "b.csv", later), by=ADMIN, list_name="members")
    clock.advance(days=54)  # 10 March 2026
    people.unsubscribe("mitglied0@example.org", ["members"], by=ADMIN)
    clock.advance(days=101)  # 19 June 2026


def _rows(html: str) -> dict[str, list[str]]:
    table = html.split('aria-labelledby="lists-heading"', 1)[1]
    out = {}
    for row in re.findall(r"<tr>\s*<th scope=\"row\"[^>]*>([^<]+)</th>(.*?)</tr>", table, re.S):
        out[row[0]] = re.findall(r"<td[^>]*>([^<]*)</td>", row[1])
    return out


def test_the_start_page_needs_a_login(client: FlaskClient) -> None:
    answer = client.get("/editor/")
    assert answer.status_code == 302 and "/editor/login" in answer.headers["Location"]


def test_lists_show_their_size_a_year_ago_now_and_each_month_between(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    _grow(settings, store, clock, tmp_path)
    login(client)  # a year later: a fresh session
    html = client.get("/editor/").get_data(as_text=True)
    rows = _rows(html)
    # 1 July 2025: three members; now: three plus two minus one; by title, not name
    assert rows["Mitglieder-Newsletter"][:4] == ["3", "4", "+1"]
    assert rows["Presseverteiler"][:3] == ["0", "0", "+0"]
    months = dict(re.findall(r"<tr><th scope=\"row\">([^<]+)</th><td>(\d+)</td>", html))
    assert months["Feb. 26"] == "5" and months["Apr. 26"] == "4" and months["Juli 25"] == "3"
    assert "members" not in re.sub(r"<[^>]+>", "", html.split("<main", 1)[1])


def test_the_chart_is_an_inline_svg_with_a_line_per_list_and_no_outside_resource(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    _grow(settings, store, clock, tmp_path)
    login(client)  # a year later: a fresh session
    html = client.get("/editor/").get_data(as_text=True)
    svg = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in html and '<title id="chart-title">' in svg
    lines = re.findall(r'<polyline class="line (series-\d)" points="([^"]+)"', svg)
    assert [css for css, _ in lines] == ["series-0", "series-1"]
    members = [tuple(map(float, p.split(","))) for p in lines[0][1].split()]
    assert len(members) == 13  # twelve month starts and today
    ys = [y for _, y in members]
    assert ys[7] < ys[0]  # February (5) is drawn higher than July (3)
    assert "http" not in svg and "<script" not in html


def test_last_mailings_link_to_their_pages(
    client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    clock.advance(days=374)
    login(client)
    draft = seed_mailing(store, clock)
    html = client.get("/editor/").get_data(as_text=True)
    assert f'href="/editor/mailings/{draft.id}"' in html and "Entwurf" in html
    assert 'href="/editor/mailings"' in html


def test_failing_feeds_and_a_stopped_daemon_are_shown(
    editor: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    html = editor.get("/editor/").get_data(as_text=True)
    assert "läuft nicht" in html and "noch nie gestartet" in html and "rundbrief run" in html
    assert "Alle Feeds werden fehlerfrei abgeholt." in html
    name = "verband-artikel"
    sync_feeds(
        store, [ConfiguredFeed(name, "https://example.org/feed", "article")], now=clock.now()
    )
    feed = get_feed(store, name)
    assert feed is not None
    record_failure(store, feed.id, "HTTP 503 vom Server", now=clock.now(), flag_after=5)
    html = editor.get("/editor/").get_data(as_text=True)
    assert name in html and "HTTP 503 vom Server" in html


def test_month_starts_are_local_midnights_oldest_first(settings: Settings) -> None:
    starts = month_starts(datetime(2026, 1, 31, 23, 30, tzinfo=UTC), settings)
    # 23:30 UTC on 31 January is already 1 February in Berlin
    assert starts[-1].isoformat() == "2026-02-01T00:00:00+01:00"
    assert starts[0].isoformat() == "2025-03-01T00:00:00+01:00" and len(starts) == 12


def test_the_scale_ends_on_a_round_number() -> None:
    assert [nice_ceiling(v) for v in (0, 3, 7, 12, 180, 201, 1000)] == [
        5,
        5,
        10,
        20,
        200,
        500,
        1000,
    ]
    drawn = line_chart([("A", [0, 10])], ["x", "y"])
    assert drawn.ticks[-1].value == 10 and drawn.series[0].points.endswith(f",{drawn.top}.0")


def test_each_editor_chooses_the_language_of_the_pages(client: FlaskClient) -> None:
    login(client)
    # the browser's language does not decide: the account's choice does
    html = client.get("/editor/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>Übersicht</h1>" in html and '<html lang="de">' in html
    account = client.get("/editor/account").get_data(as_text=True)
    answer = client.post(
        "/editor/account", data={"ui_language": "en", "csrf_token": csrf_from(account)}
    )
    assert answer.status_code == 303
    html = client.get("/editor/").get_data(as_text=True)
    assert "<h1>Overview</h1>" in html and '<html lang="en">' in html
    assert "Lists over the last twelve months" in html
    assert "The pages now speak English." in html
    refused = client.post(
        "/editor/account", data={"ui_language": "fr", "csrf_token": csrf_from(html)}
    )
    assert refused.status_code == 400
    assert "<h1>Overview</h1>" in client.get("/editor/").get_data(as_text=True)
