"""The subscribers commands as an operator runs them (in-process entry point, real SQLite)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO
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

[sender]
from_name = "Netzwerk"
from_address = "newsletter@junge-buergermeister.example"

[[lists]]
name = "members"
title = "Mitglieder"
reason = "Sie sind Mitglied."
double_opt_in = false

[[lists]]
name = "press"
title = "Presse"
reason = "Sie sind im Presseverteiler."
"""

COMMANDS = ("import", "list", "show", "count", "export", "erase", "suppress", "unsubscribe")


@pytest.fixture
def rundbrief(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Callable[..., Run]:
    config = write_config(tmp_path, CONFIG)

    def invoke(*args: str) -> Run:
        return run_cli(capsys, config, *args)

    return invoke


def test_import_exit_status_and_json(rundbrief: Callable[..., Run], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "email,language\nok@verein.example,de\nkaputt,de\nfr@verein.example,fr\n", "utf-8"
    )
    run = rundbrief("subscribers", "import", str(bad), "--list", "members", "--json")
    assert run.returncode == 1
    data = json.loads(run.stdout)
    assert data["created"] == 1
    assert [(e["line"], e["email"]) for e in data["errors"]] == [
        (3, "kaputt"),
        (4, "fr@verein.example"),
    ]

    human = rundbrief("subscribers", "import", str(bad), "--list", "members")
    assert human.returncode == 1
    assert "line 3: invalid address" in human.stderr and "line 4: unknown language" in human.stderr

    good = rundbrief(
        "subscribers", "import", str(REPO / "subscribers" / "press.csv"), "--list", "press"
    )
    assert good.returncode == 0 and "0 bad" in good.stdout

    dry = rundbrief(
        "subscribers",
        "import",
        str(REPO / "subscribers" / "members.csv"),
        "--list",
        "members",
        "--dry-run",
    )
    assert dry.returncode == 0 and dry.stdout.startswith("dry run")
    count = json.loads(rundbrief("subscribers", "count", "--json").stdout)
    assert "members" in count["lists"] and count["lists"]["members"] == {"active": 1}


def test_manage_a_person(rundbrief: Callable[..., Run]) -> None:
    rundbrief("subscribers", "import", str(REPO / "subscribers" / "press.csv"), "--list", "press")
    listed = json.loads(rundbrief("subscribers", "list", "--list", "press", "--json").stdout)
    assert len(listed) >= 5
    email = listed[0]["email"]

    shown = json.loads(rundbrief("subscribers", "show", email, "--json").stdout)
    assert shown["subscriptions"][0]["status"] == "active"

    off = rundbrief("subscribers", "unsubscribe", email, "--list", "press")
    assert off.returncode == 0 and "address suppressed" in off.stdout
    again = rundbrief("subscribers", "unsubscribe", email, "--list", "press")
    assert again.returncode == 1 and "was not subscribed" in again.stderr

    sup = rundbrief("subscribers", "suppress", listed[1]["email"], "--reason", "complaint")
    assert sup.returncode == 0 and "suppressed (complaint)" in sup.stdout
    wrong = rundbrief("subscribers", "suppress", listed[1]["email"], "--reason", "weil")
    assert wrong.returncode == 1 and "unknown suppression reason" in wrong.stderr

    exported = json.loads(rundbrief("subscribers", "export", email).stdout)
    assert exported["email"] == email and exported["suppression"]["reason"] == "unsubscribed"

    erased = rundbrief("subscribers", "erase", email, "--json")
    assert json.loads(erased.stdout)["subscriber_erased"] is True
    after = json.loads(rundbrief("subscribers", "export", email).stdout)
    assert after["subscriber"] is None and after["subscriptions"] == []
    assert after["suppression"]["reason"] == "unsubscribed"

    missing = rundbrief("subscribers", "show", "niemand@verein.example")
    assert missing.returncode == 1 and "nothing is held" in missing.stderr


def test_a_row_with_an_overlong_value_is_refused_alone(
    rundbrief: Callable[..., Run], tmp_path: Path
) -> None:
    """A value over the csv module's 131,072-character limit once stopped the whole
    import; now that row alone is refused, and the rows after it (also after a long
    quoted value spanning lines that looks like rows inside) are read as they are."""
    long = "x" * 200_000
    looks_like_rows = "\nfake@verein.example,Fake,F,x\n" * 4000  # 120,000 characters
    path = tmp_path / "long.csv"
    path.write_text(
        "email,first_name,last_name,notes\n"
        "a@verein.example,Anna,A,kurz\n"  # 2
        f"b@verein.example,Bernd,B,{long}\n"  # 3 unquoted
        "c@verein.example,Clara,C,kurz\n"  # 4
        f'd@verein.example,Dora,D,"{long[:1000]}, ""zitiert"",{looks_like_rows}{long}"\n'  # 5-8005
        'e@verein.example,Emil,E,"zwei\nZeilen"\n'  # lines 8006-8007
        "f@verein.example,Fritz,F,kurz\n"  # 8008
        "kaputt,G,G,x\n"  # 8009
        f'"h@verein.example","{long}{long}",H,x\n'  # 8010: long first name
        "i@verein.example,Ida,I,ok\n",  # 8011
        "utf-8",
    )
    run = rundbrief("subscribers", "import", str(path), "--list", "members", "--json")
    assert run.returncode == 1
    data = json.loads(run.stdout)
    errors = [(e["line"], e["email"], e["reason"]) for e in data["errors"]]
    assert errors == [
        (
            3,
            "b@verein.example",
            "column 'notes' is longer than 500 characters "
            "(200,000 characters; the row was not read)",
        ),
        (
            5,
            "d@verein.example",
            "column 'notes' is longer than 500 characters "
            "(321,012 characters; the row was not read)",
        ),
        (8006, "e@verein.example", "line break in column 'notes'"),
        (8009, "kaputt", errors[3][2]),
        (
            8010,
            "h@verein.example",
            "column 'first_name' is longer than 500 characters "
            "(400,000 characters; the row was not read)",
        ),
    ]
    assert errors[3][2].startswith("invalid address")
    assert (data["rows"], data["created"]) == (9, 4)
    listed = json.loads(rundbrief("subscribers", "list", "--json").stdout)
    assert sorted(p["email"] for p in listed) == [f"{c}@verein.example" for c in "acfi"]

    human = rundbrief("subscribers", "import", str(path), "--list", "members")
    assert human.returncode == 1
    assert human.stdout.startswith(f"{path}: 9 rows, 0 new, 0 updated, 4 unchanged")
    assert "line 3: column 'notes' is longer than 500 characters" in human.stderr
