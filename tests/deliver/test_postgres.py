"""Two ``rundbrief worker`` processes share one PostgreSQL outbox: each recipient once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.clock import SystemClock
from pipeline.deliver.outbox import send_mailing
from pipeline.store import Store
from pipeline.store import outbox as db
from pipeline.store.schema import deliveries
from tests.deliver.support import SECRET, add_mailing, add_subscribers, write_config
from tests.deliver.test_crash import REPO
from tests.support.settings import make_settings
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.postgres


def test_two_workers_send_each_recipient_once(
    tmp_path: Path, smtp_server: SmtpServer, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SystemClock()
    store = Store.open(pg_url)
    emails = add_subscribers(store, clock, 200)
    mailing_id = add_mailing(store, clock)
    settings = make_settings(
        tmp_path,
        storage={"url": pg_url},
        delivery={"transport": "smtp", "batch_size": 20},
        smtp={"host": smtp_server.host, "port": smtp_server.port},
    )
    # Start the mailing and record its deliveries, then leave the sending to the workers.
    report = send_mailing(settings, store, mailing_id, clock=clock, stop=lambda: True)
    assert report.stopped and db.counts(store, mailing_id)["queued"] == 200
    config = write_config(tmp_path, smtp=smtp_server, url=pg_url, batch_size=20, per_second=400)
    env = {**os.environ, "RUNDBRIEF_SECRET": SECRET}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "pipeline", "--config", str(config), "worker", "--once"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    shares = []
    for proc in workers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        shares.append(sum(int(n) for n in re.findall(r"sent (\d+), failed", out.decode())))
    print(f"\npostgres: two workers sent {shares} of 200")
    assert sum(shares) == 200
    got = Counter(smtp_server.sink.recipients())
    assert set(got) == set(emails)
    assert set(got.values()) == {1}
    state = db.mailing_state(store, mailing_id)
    assert state is not None and state.status == "sent"
    with store.connect() as conn:
        ids = [r.message_id for r in conn.execute(select(deliveries.c.message_id))]
    assert len(set(ids)) == 200
    store.close()
