"""Fast start: a command imports what it uses.

``rundbrief --help``, ``--version`` and every ``COMMAND --help`` (found from the app, so a
new command is covered without touching this file) load none of the stage libraries; a
command that only opens the store loads no web, feed or mail library; a collect of
unchanged feeds (HTTP 304) parses nothing and renders nothing. Each check runs a fresh
interpreter and reads its ``sys.modules``: this test process has imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipeline import cli
from tests.collect.conftest import fixture_bytes
from tests.conftest import REPO
from tests.support.cli import run_cli
from tests.support.settings import write_config

# Libraries that no --help may import (rich too: typer prints plain help without it).
HEAVY = (
    "sqlalchemy", "flask", "werkzeug", "waitress", "feedparser", "requests", "urllib3",
    "mjml", "css_inline", "nh3", "babel", "jinja2", "dkim", "apscheduler",
    "email_validator", "markdown_it", "rich",
)  # fmt: skip
# What a command that opens the store, or collects unchanged feeds, must still not load.
WEB_FEED_MAIL = (
    "flask", "werkzeug", "waitress", "feedparser", "mjml", "css_inline", "nh3", "babel",
    "jinja2", "dkim", "markdown_it",
)  # fmt: skip

# Runs each argv (a JSON list of lists) through the real entry point, one after the
# other in one interpreter, and reports per argv the modules it imported first, its exit
# status and what it printed.
PROBE = """
import contextlib, io, json, sys
seen = set(sys.modules)
from pipeline.cli import main
runs = [{"argv": ["(import pipeline.cli)"], "code": 0, "out": "",
         "loaded": sorted(set(sys.modules) - seen)}]
seen = set(sys.modules)
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    runs.append({"argv": argv, "code": code, "out": out.getvalue() + err.getvalue(),
                 "loaded": sorted(set(sys.modules) - seen)})
    seen = set(sys.modules)
json.dump(runs, sys.stdout)
"""


def probe(*argvs: list[str]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argvs)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    runs: list[dict[str, Any]] = json.loads(done.stdout)
    return runs


def offenders(runs: list[dict[str, Any]], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    """For each argv that imported a forbidden library first: which ones."""
    found = {}
    for r in runs:
        bad = sorted({m.split(".")[0] for m in r["loaded"]} & set(forbidden))
        if bad:
            found[" ".join(r["argv"])] = bad
    return found


def help_argvs() -> list[list[str]]:
    """``--help`` of the app, of every command and of every sub-command, as the app
    itself lists them."""
    group = typer.main.get_command(cli.app)
    argvs: list[list[str]] = [["--help"]]

    def walk(command: Any, path: list[str], ctx: Any) -> None:
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"rundbrief {' '.join([*path, name])} is listed, not found"
            argvs.append([*path, name, "--help"])
            if hasattr(sub, "list_commands"):
                walk(sub, [*path, name], typer.Context(sub, parent=ctx, info_name=name))

    walk(group, [], typer.Context(group, info_name="rundbrief"))
    return argvs


def test_version_and_help_import_no_library() -> None:
    runs = probe(["--version"], ["--help"])
    assert [r["code"] for r in runs] == [0, 0, 0]
    assert runs[1]["out"].startswith("rundbrief ")
    assert "Commands:" in runs[2]["out"]
    # not even pydantic, which typer uses to convert a command's parameters
    assert offenders(runs, (*HEAVY, "pydantic")) == {}


def test_every_command_help_imports_no_library() -> None:
    argvs = help_argvs()
    assert any(len(argv) == 3 for argv in argvs)  # the groups' sub-commands are there too
    runs = probe(*argvs)
    failed = {" ".join(r["argv"]): r["out"] for r in runs if r["code"] != 0}
    assert failed == {}
    assert all("Usage: rundbrief" in r["out"] for r in runs[1:])
    assert offenders(runs, HEAVY) == {}


def test_the_listed_commands_are_the_registered_ones_with_their_help() -> None:
    modules = sorted({lazy.module for lazy in cli.COMMANDS.values()})
    registered: set[str] = set()
    for module in modules:
        registered |= set(cli.load_commands(module))
    assert registered == set(cli.COMMANDS), "update COMMANDS in pipeline/cli/__init__.py"
    for name, lazy in cli.COMMANDS.items():
        command = cli.load_commands(lazy.module).get(name)
        assert command is not None, f"{name}: not registered by pipeline.cli.{lazy.module}"
        # the help the listing keeps is the first sentence of the command's docstring
        assert lazy.help == command.get_short_help_str(limit=10_000), name


def test_the_listing_is_the_same_before_and_after_loading_every_command() -> None:
    group = typer.main.get_command(cli.app)
    ctx = typer.Context(group, info_name="rundbrief")
    lazy = group.get_help(ctx)
    for name in cli.COMMANDS:
        group.get_command(ctx, name)
    assert group.get_help(ctx) == lazy
    assert all(f"\n  {name} " in lazy for name in cli.COMMANDS)


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


def test_subscribers_count_opens_the_store_and_nothing_else(tmp_path: Path) -> None:
    config = write_config(tmp_path, CONFIG)
    runs = probe(["--config", str(config), "subscribers", "count", "--json"])
    count = runs[-1]
    assert count["code"] == 0, count["out"]
    assert json.loads(count["out"]) == {
        "lists": {"members": {}, "press": {}},
        "subscribers": 0,
        "suppressions": 0,
    }
    assert "sqlalchemy" in {m.split(".")[0] for r in runs for m in r["loaded"]}
    assert offenders(runs, (*WEB_FEED_MAIL, "requests")) == {}


def test_collect_of_unchanged_feeds_parses_and_renders_nothing(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = fixture_bytes("wordpress-rss2.xml")
    asked: list[str | None] = []

    def conditional(request: Request) -> Response:
        asked.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(body, content_type="application/rss+xml", headers={"ETag": '"v1"'})

    feeds = ""
    for n in range(3):
        httpserver.expect_request(f"/feed/{n}").respond_with_handler(conditional)
        feeds += f'\n[[feeds]]\nname = "feed-{n}"\nurl = "{httpserver.url_for(f"/feed/{n}")}"\n'
    config = write_config(tmp_path, CONFIG + feeds)
    first = run_cli(capsys, config, "collect", "--json")  # stores the items and the ETags
    assert first.returncode == 0, first.stderr
    assert first.json()["new"] > 0

    runs = probe(["--config", str(config), "collect", "--json"])
    again = runs[-1]
    assert again["code"] == 0, again["out"]
    assert [f["status"] for f in json.loads(again["out"])["feeds"]] == ["not_modified"] * 3
    assert asked[-3:] == ['"v1"'] * 3  # answered 304: nothing came to parse
    assert offenders(runs, WEB_FEED_MAIL) == {}
