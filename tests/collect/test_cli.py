"""The collect commands as an operator runs them: real process, real HTTP, real SQLite."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.collect.conftest import fixture_bytes, serve
from tests.support.cli import Run, run_cli
from tests.support.settings import write_config

CONFIG = """
[organisation]
name = "Netzwerk Junge Bürgermeister*innen"
website = "https://www.junge-buergermeister.example"
postal_address = "Marienstraße 6, 10117 Berlin"
imprint_url = "https://www.junge-buergermeister.example/impressum"

[storage]
url = "sqlite:///var/test.db"

[collect]
timeout = 5
failures_before_flag = 1
backfill_days = 100000

[sender]
from_name = "Netzwerk"
from_address = "newsletter@junge-buergermeister.example"

[[lists]]
name = "members"
title = "Mitglieder"
reason = "Sie sind Mitglied."

[[lists]]
name = "press"
title = "Presse"
reason = "Sie sind im Presseverteiler."
"""


def feeds_toml(**feeds: tuple[str, str]) -> str:
    return "".join(
        f'\n[[feeds]]\nname = "{name}"\nurl = "{url}"\nkind = "{kind}"\n'
        for name, (url, kind) in feeds.items()
    )


@pytest.fixture
def rundbrief(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run the real entry point in-process (a subprocess costs seconds of imports)."""

    def invoke(config: Path, *args: str) -> Run:
        return run_cli(capsys, config, *args)

    return invoke


def test_collect_json_shape_and_exit_status(
    httpserver: HTTPServer, tmp_path: Path, rundbrief: Callable[..., Run]
) -> None:
    httpserver.expect_request("/broken").respond_with_data("nope", status=500)
    config = write_config(
        tmp_path,
        CONFIG
        + feeds_toml(
            artikel=(serve(httpserver, "/feed/", fixture_bytes("wordpress-rss2.xml")), "article"),
            presse=(serve(httpserver, "/presse", fixture_bytes("rss10.xml")), "press_release"),
            kaputt=(httpserver.url_for("/broken"), "article"),
        ),
    )
    proc = rundbrief(config, "collect", "--json")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data == {
        "new": 3,
        "updated": 0,
        "feeds": [
            {"name": "artikel", "status": "ok", "new": 2, "updated": 0, "error": None},
            {"name": "presse", "status": "ok", "new": 1, "updated": 0, "error": None},
            {
                "name": "kaputt",
                "status": "error",
                "new": 0,
                "updated": 0,
                "error": "HTTP 500 INTERNAL SERVER ERROR",
            },
        ],
    }

    proc = rundbrief(config, "collect", "--feed", "artikel", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["feeds"] == [
        {"name": "artikel", "status": "not_modified", "new": 0, "updated": 0, "error": None}
    ]

    proc = rundbrief(config, "feeds", "--json")
    assert proc.returncode == 0, proc.stderr
    states = {f["name"]: f for f in json.loads(proc.stdout)}
    assert states["kaputt"]["flagged"] and states["kaputt"]["failures"] == 1
    assert states["kaputt"]["last_error"] == "HTTP 500 INTERNAL SERVER ERROR"
    assert states["artikel"]["status"] == "not_modified"

    proc = rundbrief(config, "items", "--json", "--kind", "article", "--since", "2026-06-15")
    assert proc.returncode == 0, proc.stderr
    (seed,) = json.loads(proc.stdout)
    assert list(seed) == [
        "id", "feed", "kind", "title", "link", "published", "summary", "content_html",
        "image_url", "image_credit", "tags",
    ]  # fmt: skip
    assert seed["feed"] == "artikel" and seed["kind"] == "article"
    assert seed["title"].endswith("Das Netzwerk Junge Bürgermeister*innen")
    assert seed["published"] == "2026-06-17T09:12:44+00:00"
    assert seed["image_credit"] == "©NJB/Sebastian Bolesch"
    assert seed["tags"] == ["Gemeinschaft", "Jahreskonferenz"]
    assert "„Mit starken Kommunen Zukunft gestalten“" in seed["content_html"]


def test_human_output_and_bad_options(
    httpserver: HTTPServer, tmp_path: Path, rundbrief: Callable[..., Run]
) -> None:
    config = write_config(
        tmp_path,
        CONFIG
        + feeds_toml(
            artikel=(serve(httpserver, "/f", fixture_bytes("atom10.xml")), "event_report")
        ),
    )
    proc = rundbrief(config, "collect")
    assert proc.returncode == 0, proc.stderr
    assert "artikel" in proc.stdout and "2 new, 0 updated from 1 feeds" in proc.stdout
    proc = rundbrief(config, "items")
    assert proc.returncode == 0 and "Werkstattgespräch" in proc.stdout
    proc = rundbrief(config, "items", "--kind", "blog")
    assert proc.returncode == 2 and "article, event_report, press_release" in proc.stderr
    proc = rundbrief(config, "items", "--since", "gestern")
    assert proc.returncode == 2 and "2026-06-01" in proc.stderr
    proc = rundbrief(config, "collect", "--feed", "gibtsnicht")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"rundbrief: error: {config}: unknown feed 'gibtsnicht' (configured feeds: artikel)"
    )
