"""Issue 12 on the command line: ``--as EMAIL`` names who acts, the four-eyes rule has
no back door, ``rundbrief audit`` shows the log (filtered, as JSON), subscribers'
operations are recorded by id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.compose.test_cli import CONFIG
from tests.support.cli import Run, run_cli
from tests.support.mail_items import add_items
from tests.support.settings import write_config

ANNA = "anna@junge-buergermeister.example"
BERT = "bert@junge-buergermeister.example"


@pytest.fixture
def rb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Run]:
    from pipeline.access import Actor, Role
    from pipeline.accounts import Accounts
    from pipeline.clock import SystemClock
    from pipeline.config import load_settings
    from pipeline.store import Store

    monkeypatch.setenv("RUNDBRIEF_TEST_SECRET", "ein-langes-geheimnis-fuer-die-links")
    monkeypatch.delenv("RUNDBRIEF_AS", raising=False)
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, CONFIG)
    settings = load_settings(config)
    store = Store.open(settings.database_url())
    add_items(store, datetime.now(UTC), 3, kinds=("article", "press_release"))
    # the accounts --as names: two who may approve, one of them admin
    accounts = Accounts(store, settings, SystemClock())
    first = Actor("setup@junge-buergermeister.example", Role.ADMIN)
    accounts.add(first, ANNA, Role.APPROVER, "ein-langes-passwort-fuer-anna")
    accounts.add(first, BERT, Role.ADMIN, "ein-langes-passwort-fuer-bert")
    store.close()

    def invoke(*args: str) -> Run:
        return run_cli(capsys, config, *args)

    return invoke


def _work(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries after the fixture's own (the accounts it added)."""
    return [e for e in entries if not e["action"].startswith("account_")]


def test_the_author_of_a_press_release_cannot_approve_it_another_can(
    rb: Callable[..., Run],
) -> None:
    made = rb("--as", ANNA, "compose", "press", "2", "--json")
    assert made.returncode == 0, made.stderr
    mailing = str(made.json()["mailing"])
    refused = rb("--as", ANNA, "approve", mailing)
    assert refused.returncode != 0
    assert (
        f"{ANNA} edited this press release last; another approver must approve it" in refused.stderr
    )
    # the older --by spelling is no way around it
    assert rb("approve", mailing, "--by", ANNA).returncode != 0
    assert rb("--as", BERT, "approve", mailing, "--by", ANNA).returncode != 0
    approved = rb("--as", BERT, "approve", mailing)
    assert approved.returncode == 0, approved.stderr
    assert f"approved by {BERT}" in approved.stdout

    log = rb("audit", "--mailing", mailing, "--json")
    assert log.returncode == 0, log.stderr
    entries = log.json()["entries"]
    assert [(e["action"], e["actor"]["email"], e["channel"]) for e in entries] == [
        ("compose", ANNA, "cli"),
        ("approve", BERT, "cli"),
    ]
    assert entries[0]["target"] == {"kind": "mailing", "id": mailing}

    human = rb("audit", "--user", BERT)
    assert human.returncode == 0
    assert f"{BERT} (admin, cli)  approve  approved press release {mailing}" in human.stdout
    assert ANNA not in human.stdout


def test_the_actor_comes_from_the_environment_too(
    rb: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNDBRIEF_AS", BERT)
    assert rb("compose", "newsletter").returncode == 0
    entries = _work(rb("audit", "--json").json()["entries"])
    assert [(e["action"], e["actor"]["email"]) for e in entries] == [("compose", BERT)]


def test_audit_since_and_its_errors(rb: Callable[..., Run]) -> None:
    assert rb("--as", ANNA, "compose", "newsletter").returncode == 0
    assert len(_work(rb("audit", "--since", "2000-01-01", "--json").json()["entries"])) == 1
    assert rb("audit", "--since", "2999-01-01", "--json").json()["entries"] == []
    assert "No audit entries." in rb("audit", "--since", "2999-01-01T10:00").stdout
    bad = rb("audit", "--since", "gestern")
    assert bad.returncode != 0 and "--since 'gestern'" in bad.stderr


def test_subscriber_commands_are_recorded_by_id(rb: Callable[..., Run], tmp_path: Path) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text("email,first_name\nmax@example.org,Max\n", encoding="utf-8")
    assert rb("--as", ANNA, "subscribers", "import", str(csv), "--list", "members").returncode == 0
    assert rb("--as", ANNA, "subscribers", "unsubscribe", "max@example.org").returncode == 0
    erased = rb("--as", BERT, "subscribers", "erase", "max@example.org")
    assert erased.returncode == 0, erased.stderr
    entries = _work(rb("audit", "--json").json()["entries"])
    assert [(e["action"], e["actor"]["email"]) for e in entries] == [
        ("import", ANNA),
        ("unsubscribe", ANNA),
        ("erase", BERT),
    ]
    ident = entries[1]["target"]["id"]
    assert entries[1]["target"] == {"kind": "subscriber", "id": ident}
    by_subscriber = rb("audit", "--subscriber", ident, "--json").json()["entries"]
    assert [e["action"] for e in by_subscriber] == ["unsubscribe", "erase"]
    assert "max@example.org" not in rb("audit", "--json").stdout
