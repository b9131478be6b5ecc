"""The scheduler's job store on a SQLite file shared by several daemons."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from pipeline.store import Store

TABLE = "apscheduler_jobs"


def _start(url: str, ready: Any, results: Any) -> None:
    store = Store.open(url)
    jobs = store.job_store(TABLE)
    ready.wait()
    try:
        jobs.start(None, "default")
        results.put("ok")
    except Exception as exc:  # reported to the test, which names it
        results.put(f"{type(exc).__name__}: {exc}")
    finally:
        store.close()


def test_two_daemons_starting_together_both_create_or_find_the_job_table(tmp_path: Path) -> None:
    # Two `rundbrief run` on one file start their schedulers at the same instant. The
    # job table was made by a read ("is it there?") and then a write in one deferred
    # transaction: in WAL mode the second process's snapshot went stale and SQLite
    # answered "database is locked" at once, without waiting, and that daemon exited.
    context = multiprocessing.get_context("fork")
    for attempt in range(8):
        url = f"sqlite:///{tmp_path / f'race{attempt}.db'}"
        Store.open(url).migrate()
        ready = context.Barrier(2)
        results = context.Queue()
        workers = [context.Process(target=_start, args=(url, ready, results)) for _ in "ab"]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
        assert outcomes == ["ok", "ok"], (attempt, outcomes)
