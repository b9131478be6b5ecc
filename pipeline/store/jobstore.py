"""APScheduler's SQLAlchemy job store on the store's engine, behind the store's boundary.

Every call turns a database failure into a ``StoreError`` (one line, the store named).
Three calls are made by APScheduler's own loop, which does not survive an exception from
them (its thread ends and no job fires again): ``update_job``, ``remove_job`` and
``get_next_run_time``. Those log the failure and carry on: the job keeps its old run
time in the table, so it is due again at the next wake-up and runs once more (jobs are
idempotent: what may be sent is decided by the store, not by the scheduler), and the
scheduler wakes up again after ``RETRY_SECONDS`` to look.

The job table is created in a write transaction of the store (``BEGIN IMMEDIATE`` on
SQLite): APScheduler's own check-then-create reads and then writes in one deferred
transaction, and two daemons starting together on one SQLite file (WAL) made the later
one fail at once with "database is locked", without waiting for the lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from pipeline.errors import StoreError

if TYPE_CHECKING:
    from pipeline.store import Store

log = logging.getLogger(__name__)

RETRY_SECONDS = 10.0
T = TypeVar("T")


class GuardedJobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    def __init__(self, store: Store, tablename: str) -> None:
        super().__init__(engine=store.engine, tablename=tablename)
        self._store = store

    def _guarded(self, call: Callable[[], T]) -> T:
        with self._store.boundary():
            return call()

    def start(self, scheduler: Any, alias: str) -> None:
        BaseJobStore.start(self, scheduler, alias)
        with self._store.begin() as conn:
            self.jobs_t.create(conn, checkfirst=True)

    def lookup_job(self, job_id: str) -> Any:
        return self._guarded(lambda: super(GuardedJobStore, self).lookup_job(job_id))

    def get_due_jobs(self, now: datetime) -> Any:
        return self._guarded(lambda: super(GuardedJobStore, self).get_due_jobs(now))

    def get_all_jobs(self) -> Any:
        return self._guarded(lambda: super(GuardedJobStore, self).get_all_jobs())

    def add_job(self, job: Any) -> None:
        self._guarded(lambda: super(GuardedJobStore, self).add_job(job))

    def remove_all_jobs(self) -> None:
        self._guarded(lambda: super(GuardedJobStore, self).remove_all_jobs())

    def update_job(self, job: Any) -> None:
        try:
            self._guarded(lambda: super(GuardedJobStore, self).update_job(job))
        except StoreError as exc:
            log.warning("job store: %s", exc, extra={"job": job.id})

    def remove_job(self, job_id: str) -> None:
        try:
            self._guarded(lambda: super(GuardedJobStore, self).remove_job(job_id))
        except StoreError as exc:
            log.warning("job store: %s", exc, extra={"job": job_id})

    def get_next_run_time(self) -> datetime | None:
        try:
            found: datetime | None = self._guarded(
                lambda: super(GuardedJobStore, self).get_next_run_time()
            )
            return found
        except StoreError as exc:
            log.warning("job store: %s", exc)
            return datetime.now(UTC) + timedelta(seconds=RETRY_SECONDS)


__all__ = ["GuardedJobStore"]
