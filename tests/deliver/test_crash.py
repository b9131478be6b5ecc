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
from tests.deliver.support import SECRET, add_mailing, add_subscribers
from tests.support.smtp import SmtpServer

REPO = Path(__file__).resolve().parents[2]
RECIPIENTS = 300
KILLS = 3


def write_config(tmp_path: Path, server: SmtpServer) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[organisation]
name = "Netzwerk Junge Bürgermeister*innen"
website = "https://www.junge-buergermeister.example"
postal_address = "Marienstraße 6, 10117 Berlin"
imprint_url = "https://www.junge-buergermeister.example/impressum"

[storage]
url = "sqlite:///{tmp_path / "rundbrief.db"}"

[[lists]]
name = "members"
title = "Mitglieder-Newsletter"
reason = "Sie erhalten diese E-Mail als Mitglied."
double_opt_in = false

[[lists]]
name = "press"
title = "Presseverteiler"
reason = "Sie haben sich angemeldet."

[sender]
from_name = "Netzwerk Junge Bürgermeister*innen"
from_address = "newsletter@junge-buergermeister.example"

[web]
base_url = "https://rundbrief.junge-buergermeister.example"

[delivery]
transport = "smtp"
batch_size = 40
per_second = 150

[smtp]
host = "{server.host}"
port = {server.port}
connections = 2
timeout = 5
""",
        encoding="utf-8",
    )
    return config


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
    config = write_config(tmp_path, smtp_server)
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
