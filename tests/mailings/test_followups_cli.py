"""Issue 13, item 2 on the command line: ``rundbrief compose followup ID --kind …``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Workflow
from pipeline.models import FollowKind
from pipeline.store import Store
from tests.compose.test_cli import CONFIG
from tests.support.cli import Run, run_cli
from tests.support.followups import (
    REACHED,
    TITLE,
    change_the_list,
    refusing_sink,
    send_original,
)
from tests.support.mail_items import seed_paragraphs
from tests.support.settings import write_config
from tests.support.smtp import SmtpServer, loopback_smtp


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    server = SmtpServer(refusing_sink()).start()
    yield server
    server.stop()


@pytest.fixture
def settings_smtp(settings_factory: Any, server: SmtpServer) -> Settings:
    settings: Settings = settings_factory(
        **loopback_smtp(server),
    )
    return settings


@pytest.fixture
def sent(
    settings_smtp: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> int:
    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")
    original = send_original(settings_smtp, store, clock, tmp_path, server)
    change_the_list(settings_smtp, store, clock, tmp_path)
    return original.mailing_id


@pytest.fixture
def rb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Run]:
    monkeypatch.setenv("RUNDBRIEF_TEST_SECRET", "ein-langes-geheimnis-fuer-die-links")
    monkeypatch.delenv("RUNDBRIEF_AS", raising=False)
    monkeypatch.chdir(tmp_path)
    config = write_config(
        tmp_path,
        CONFIG.replace("sqlite:///var/test.db", f"sqlite:///{tmp_path / 'rundbrief.db'}"),
    )

    def invoke(*args: str) -> Run:
        return run_cli(capsys, config, *args)

    return invoke


def test_compose_followup_makes_a_correction_draft_for_the_delivered_set(
    rb: Callable[..., Run],
    sent: int,
    tmp_path: Path,
    settings_smtp: Settings,
    store: Store,
    clock: FakeClock,
) -> None:
    text = tmp_path / "berichtigung.md"
    text.write_text(
        "Richtig ist: " + seed_paragraphs()[1][:160] + "\n\nWir bitten um Entschuldigung.",
        encoding="utf-8",
    )
    run = rb("compose", "followup", str(sent), "--kind", "correction", "--text-file", str(text))
    assert run.returncode == 0, run.stderr
    assert "Draft correction" in run.stdout and f"of press release {sent}" in run.stdout
    assert f"“{TITLE}”" in run.stdout
    # who it reaches: the two still on the list of those who got the original
    assert f"Recipients: {len(REACHED)} of those who got {sent}" in run.stdout
    (follow_up,) = Workflow(settings_smtp, store, clock).follow_ups(sent)
    assert follow_up.follow_kind == FollowKind.CORRECTION and follow_up.status == "draft"
    shown = rb("mailing", "show", str(follow_up.id))
    assert f"Follows:   press release {sent} (correction;" in shown.stdout

    run = rb("compose", "followup", str(sent), "--kind", "withdraw", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["follows"] == sent and data["kind"] == "withdraw"
    assert data["recipients"] == len(REACHED)


def test_compose_followup_refusals_are_one_line(
    rb: Callable[..., Run], sent: int, tmp_path: Path
) -> None:
    run = rb("compose", "followup", str(sent), "--kind", "lift")
    assert run.returncode != 0
    assert f"press release {sent} has no embargo to lift" in run.stderr
    assert "Traceback" not in run.stderr
    run = rb("compose", "followup", str(sent), "--kind", "correction")
    assert run.returncode != 0 and "needs a text" in run.stderr
    run = rb("compose", "followup", str(sent), "--kind", "erratum")
    assert run.returncode != 0 and "not one of correction, update, lift, withdraw" in run.stderr


def test_mailing_log_names_the_follow_ups(
    rb: Callable[..., Run],
    sent: int,
    settings_smtp: Settings,
    store: Store,
    clock: FakeClock,
    server: SmtpServer,
) -> None:
    from tests.support.followups import delivered_follow_up
    from tests.support.press_record import EDITOR

    flow = Workflow(settings_smtp, store, clock)
    withdrawal = flow.compose_followup(sent, "withdraw", by=EDITOR)
    dict(delivered_follow_up(flow, withdrawal.id, server))
    table = rb("mailing", "log", str(sent))
    assert table.returncode == 0, table.stderr
    assert table.stdout.count(f"follow-ups {withdrawal.id}") == len(REACHED)
    data = rb("mailing", "log", str(sent), "--json").json()
    got = {e["email"]: e["follow_ups"] for e in data["entries"]}
    assert {a for a, f in got.items() if f == [withdrawal.id]} == set(REACHED)
    csv_text = rb("mailing", "log", str(sent), "--csv").stdout
    assert csv_text.splitlines()[0].endswith(",follow_ups")
    assert sum(1 for line in csv_text.splitlines() if line.endswith(f",{withdrawal.id}")) == 2
