"""Kill the sending process with SIGKILL at random points and restart it: nothing is lost,
and duplicates are at most the messages that were in flight at each kill."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from pipeline.clock import SystemClock
from pipeline.store import Store
from pipeline.store import outbox as db
from tests.deliver.support import SECRET, add_mailing, add_subscribers, write_config
from tests.support.smtp import SmtpServer

REPO = Path(__file__).resolve().parents[2]
RECIPIENTS = 300
KILLS = 3


def start_send(config: Path, mailing_id: int, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RUNDBRIEF_SECRET": SECRET}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline",
            "--config",
            str(config),
            "send",
            str(mailing_id),
            *extra,
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_sigkill_at_random_points_loses_nobody(tmp_path: Path, smtp_server: SmtpServer) -> None:
    rng = random.Random(os.environ.get("RUNDBRIEF_CRASH_SEED", "rundbrief"))
    clock = SystemClock()
    config = write_config(tmp_path, smtp=smtp_server, batch_size=40, per_second=150)
    store = Store.open(f"sqlite:///{tmp_path / 'rundbrief.db'}")
    emails = add_subscribers(store, clock, RECIPIENTS)
    mailing_id = add_mailing(store, clock)
    in_flight: list[int] = []
    deadline = time.monotonic() + 60
    for _ in range(KILLS):
        before = len(smtp_server.messages)
        target = before + rng.randint(15, 50)
        proc = start_send(config, mailing_id)
        while len(smtp_server.messages) < target and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else b""
        # Claimed and not marked: the most that can have been in flight at the kill.
        in_flight.append(db.counts(store, mailing_id)["sending"])
    proc = start_send(config, mailing_id, "--json")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    report = json.loads(out)
    assert set(report) >= {"mailing", "sent", "failed", "suppressed", "skipped", "seconds"}
    assert report["mailing"] == mailing_id and report["failed"] == 0
    got = Counter(smtp_server.sink.recipients())
    lost = set(emails) - set(got)
    duplicates = sum(got.values()) - len(got)
    print(
        f"\ncrash test: {RECIPIENTS} recipients, {KILLS} SIGKILLs, in flight at each kill "
        f"{in_flight}, lost {len(lost)}, duplicates {duplicates}"
    )
    assert not lost
    assert set(got) == set(emails)
    assert duplicates <= sum(in_flight)
    state = db.mailing_state(store, mailing_id)
    assert state is not None and state.status == "sent"
    counts = db.counts(store, mailing_id)
    assert counts["sent"] == RECIPIENTS and counts["sending"] == counts["queued"] == 0
    store.close()


@pytest.mark.slow
def test_worker_stops_cleanly_on_sigterm(tmp_path: Path, smtp_server: SmtpServer) -> None:
    from pipeline.deliver.outbox import send_mailing
    from tests.support.settings import make_settings

    clock = SystemClock()
    config = write_config(tmp_path, smtp=smtp_server, batch_size=20, per_second=20)
    store = Store.open(f"sqlite:///{tmp_path / 'rundbrief.db'}")
    add_subscribers(store, clock, 100)
    mailing_id = add_mailing(store, clock)
    settings = make_settings(tmp_path, smtp={"port": smtp_server.port})
    send_mailing(settings, store, mailing_id, clock=clock, stop=lambda: True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "--config", str(config), "worker", "--poll", "1"],
        cwd=REPO,
        env={**os.environ, "RUNDBRIEF_SECRET": SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while len(smtp_server.messages) < 10:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err.decode()
    assert "worker stopped" in out.decode()
    counts = db.counts(store, mailing_id)
    assert counts["sending"] == 0
    assert counts["sent"] == len(smtp_server.messages) < 100
    assert counts["queued"] == 100 - counts["sent"]
    store.close()
