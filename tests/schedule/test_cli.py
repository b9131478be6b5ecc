"""``rundbrief jobs`` and ``rundbrief status`` on a real store, human and JSON."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.clock import FakeClock, SystemClock
from pipeline.config import load_settings
from pipeline.schedule import jobs
from pipeline.schedule.daemon import Daemon
from pipeline.store import Store
from tests.deliver.support import write_config
from tests.schedule.support import FRIDAY_10, add_mailing, add_newsletter, add_subscribers, context

REPO = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    try:
        main(list(args))
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    return capsys.readouterr().out


def test_jobs_lists_next_runs_in_local_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    settings = load_settings(config)
    store = Store.open(settings.database_url())
    clock = SystemClock()
    embargo = (clock.now() + timedelta(days=2)).replace(microsecond=0)
    press = add_mailing(store, clock, kind="press", lists=("press",), send_at=embargo)
    data = json.loads(run(capsys, "--config", str(config), "jobs", "--json"))
    assert data["time_zone"] == "Europe/Berlin"
    by_id = {job["id"]: job for job in data["jobs"]}
    assert {"collect", "compose", "send", "sync", f"press:{press}"} <= set(by_id)
    assert "bounces" not in by_id  # no [bounces] source configured
    compose_at = datetime.fromisoformat(by_id["compose"]["next_run"])
    assert compose_at.strftime("%a %H:%M") == "Thu 14:00"
    assert compose_at.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert datetime.fromisoformat(by_id["send"]["next_run"]).strftime("%a %H:%M") == "Fri 10:00"
    assert datetime.fromisoformat(by_id[f"press:{press}"]["next_run"]) == embargo
    assert by_id["send"]["misfire_grace_seconds"] == settings.schedule.misfire_grace_seconds
    # after the daemon ran once, the stored next runs and the last outcomes show
    daemon = Daemon(settings, store)
    daemon.start()
    daemon.stop()
    text = run(capsys, "--config", str(config), "jobs")
    assert "compose" in text and "14:00:00" in text and "Jobs (Europe/Berlin)" in text
    store.close()


def test_status_shows_feeds_mailings_sends_and_notifications(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path)
    settings = load_settings(config)
    store = Store.open(settings.database_url())
    clock = FakeClock(FRIDAY_10)
    add_subscribers(store, clock, 4)
    sent = add_newsletter(store, clock)
    add_mailing(store, clock, status="draft", kind="press", lists=("press",))
    result = jobs.send_newsletter_job(context(settings, store, clock))
    assert result.outcome == "ok"
    data = json.loads(run(capsys, "--config", str(config), "status", "--json"))
    assert data["mailings"] == {"newsletter": {"sent": 1}, "press": {"draft": 1}}
    assert data["last_sends"][0]["mailing"] == sent
    assert data["last_sends"][0]["deliveries"] == {"sent": 4}
    assert data["jobs"]["send"]["outcome"] == "ok"
    assert data["notifications"][0]["key"] == f"sent:{sent}"
    assert data["failing_feeds"] == []
    assert data["daemon"] == {"running": False, "last_seen": None}  # no sync ran yet
    text = run(capsys, "--config", str(config), "status")
    assert "Last sends" in text and "4 sent" in text and "newsletter: 1 sent" in text
    assert "Daemon: not running" in text
    jobs.sync_job(context(settings, store, SystemClock()))
    assert "Daemon: running" in run(capsys, "--config", str(config), "status")
    store.close()


def test_run_without_the_secret_stops_at_once_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    config = write_config(tmp_path)
    env = {k: v for k, v in __import__("os").environ.items() if k != "RUNDBRIEF_SECRET"}
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "--config", str(config), "run"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"rundbrief: error: {config}: web.secret_env names the environment variable "
        "RUNDBRIEF_SECRET, which is not set"
    ]
