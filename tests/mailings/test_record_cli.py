"""Issue 13, item 5 on the command line: ``rundbrief mailing log ID`` as a table, as CSV
(safe for spreadsheets) and as JSON, times in the organisation's zone."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import record
from pipeline.store import Store
from tests.compose.test_cli import CONFIG
from tests.support.cli import Run, run_cli
from tests.support.press_record import (
    BOUNCED_HARD,
    COMPLAINED,
    HOSTILE,
    JOURNALISTS,
    QueueIdSink,
    queue_id,
    report_back,
    send_release,
)
from tests.support.settings import write_config
from tests.support.smtp import SmtpServer, loopback_smtp


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    server = SmtpServer(QueueIdSink()).start()
    yield server
    server.stop()


@pytest.fixture
def sent(
    settings_factory: Any,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> int:
    """A release sent to the press list (one hostile row) with bounces and an erasure."""
    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")
    settings: Settings = settings_factory(
        **loopback_smtp(server),
    )
    mailing_id = send_release(settings, store, clock, tmp_path, server, hostile=True)
    report_back(settings, store, clock, mailing_id)
    return mailing_id


@pytest.fixture
def rb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Run]:
    """The CLI on the store the release was sent from (no accounts: the local shell)."""
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


def test_log_as_csv_lists_every_recipient_safely(rb: Callable[..., Run], sent: int) -> None:
    result = rb("mailing", "log", str(sent), "--csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(JOURNALISTS) + 1
    first = next(r for r in rows if r["email"] == JOURNALISTS[0][0])
    assert (first["outlet"], first["beat"]) == ("Tageszeitung Ost", "Kommunalpolitik")
    assert first["delivered_at"] == "2026-06-19T10:02:00+02:00"
    assert first["provider_message_id"] == queue_id(JOURNALISTS[0][0])
    hostile = next(r for r in rows if r["email"] == HOSTILE[0])
    assert hostile["outlet"].startswith("'=") and hostile["beat"] == "'+Wirtschaft"
    assert [r["email"] for r in rows if r["erased"] == "yes"] == ["[erased]"]
    assert "Schäfer" not in result.stdout and "Kulturradio" not in result.stdout


def test_log_as_json(rb: Callable[..., Run], sent: int) -> None:
    result = rb("mailing", "log", str(sent), "--json")
    assert result.returncode == 0, result.stderr
    data = result.json()
    assert data["mailing"]["id"] == sent and data["time_zone"] == "Europe/Berlin"
    entries = {e["email"]: e for e in data["entries"]}
    assert len(data["entries"]) == len(JOURNALISTS) + 1
    assert entries[BOUNCED_HARD]["bounce"]["kind"] == "hard"
    assert entries[COMPLAINED]["complained_at"] == "2026-06-19T10:07:00+02:00"
    assert entries[None]["erased"] is True and entries[None]["outlet"] is None


def test_log_as_a_table(rb: Callable[..., Run], sent: int) -> None:
    result = rb("mailing", "log", str(sent))
    assert result.returncode == 0, result.stderr
    assert f"Distribution record of mailing {sent}" in result.stdout
    assert "6 recipients: 6 delivered, 1 hard bounce, 1 soft bounce, 1 complaint" in result.stdout
    assert "Tageszeitung Ost" in result.stdout and "Kommunalpolitik" in result.stdout
    assert "2026-06-19 10:02" in result.stdout  # Berlin time, not UTC 08:02
    assert "08:02" not in result.stdout
    assert "[erased]" in result.stdout and "Schäfer" not in result.stdout


def test_log_refuses_an_unknown_mailing_and_two_formats(rb: Callable[..., Run], sent: int) -> None:
    unknown = rb("mailing", "log", "999")
    assert unknown.returncode != 0 and "999" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    both = rb("mailing", "log", str(sent), "--csv", "--json")
    assert both.returncode != 0 and "--csv or --json" in both.stderr


def test_log_of_a_draft_is_empty(rb: Callable[..., Run], store: Store, clock: FakeClock) -> None:
    from tests.support.web import seed_mailing

    draft = seed_mailing(store, clock)
    table = rb("mailing", "log", str(draft.id))
    assert table.returncode == 0, table.stderr
    assert "No deliveries yet" in table.stdout
    as_json = rb("mailing", "log", str(draft.id), "--json")
    assert as_json.returncode == 0 and as_json.json()["entries"] == []
    as_csv = rb("mailing", "log", str(draft.id), "--csv")
    assert as_csv.stdout.splitlines() == [",".join(record.CSV_COLUMNS)]


def test_log_is_a_look_it_needs_no_as_once_accounts_exist(
    rb: Callable[..., Run], sent: int, tmp_path: Path
) -> None:
    """Like `mailing show`: the shell may look without naming itself; a named account
    must still be one that exists."""
    from pipeline.access import Actor, Role
    from pipeline.accounts import Accounts
    from pipeline.clock import SystemClock
    from pipeline.config import load_settings

    settings = load_settings(tmp_path / "config.toml")
    store = Store.open(settings.database_url())
    root = Actor("setup@junge-buergermeister.example", Role.ADMIN)
    Accounts(store, settings, SystemClock()).add(
        root, "anna@junge-buergermeister.example", "editor", "ein-langes-passwort-fuer-anna"
    )
    store.close()
    looked = rb("mailing", "log", str(sent), "--json")
    assert looked.returncode == 0, looked.stderr
    assert looked.json()["entries"]
    unknown = rb("--as", "niemand@junge-buergermeister.example", "mailing", "log", str(sent))
    assert unknown.returncode == 1 and "niemand@junge-buergermeister.example" in unknown.stderr
