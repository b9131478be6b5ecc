"""The lease on PostgreSQL: several daemons (or workers) sharing one database send once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pipeline.clock import FakeClock
from pipeline.schedule import jobs
from pipeline.store import Store
from pipeline.store import schedule as q
from tests.schedule.support import (
    FRIDAY_10,
    add_newsletter,
    add_subscribers,
    context,
    inbox,
    received_by,
)
from tests.support.settings import make_settings

pytestmark = pytest.mark.postgres


def test_concurrent_send_jobs_on_postgresql_send_once(tmp_path: Path, pg_url: str) -> None:
    settings = make_settings(tmp_path, storage={"url": pg_url})
    store = Store.open(pg_url)
    clock = FakeClock(FRIDAY_10)
    emails = add_subscribers(store, clock, 40)
    mailing_id = add_newsletter(store, clock)
    barrier = threading.Barrier(4)
    results: list[jobs.JobResult] = []

    def fire() -> None:
        ctx = context(settings, store, clock)
        barrier.wait()
        results.append(jobs.send_newsletter_job(ctx))

    threads = [threading.Thread(target=fire) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # The four cooperate (one lease each): none is turned away or stopped, and together
    # they sent each recipient once.
    assert [r.outcome for r in results] == ["ok"] * 4, results
    assert sum(int(r.detail.split(": ")[1].split(" sent")[0]) for r in results) == len(emails)
    state = q.mailing_state(store, mailing_id)
    assert state is not None and state.status == "sent"
    got = received_by(inbox(settings))
    assert {e: got[e] for e in emails} == dict.fromkeys(emails, 1)
    store.close()


def test_the_daemon_keeps_its_jobs_in_postgresql(tmp_path: Path, pg_url: str) -> None:
    from pipeline.schedule.daemon import Daemon
    from pipeline.schedule.plan import stored_next_runs

    settings = make_settings(tmp_path, storage={"url": pg_url})
    store = Store.open(pg_url)
    daemon = Daemon(settings, store)
    daemon.start()
    daemon.stop()
    assert {"collect", "compose", "send", "sync"} <= set(stored_next_runs(store))
    store.close()
