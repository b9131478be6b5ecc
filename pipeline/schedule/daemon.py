"""``rundbrief run``: one long-running process driving the jobs with APScheduler 3.

Jobs are kept in the store's database (APScheduler's ``SQLAlchemyJobStore``, table
``scheduler_jobs``), with every time in the organisation's time zone. Each job has an
explicit ``misfire_grace_time``, ``coalesce=True`` (after downtime a job runs once, not
once per missed time) and ``max_instances=1``. The job store only decides *when*; what
may be sent is decided by the store (the atomic start of a send, the outbox's
per-delivery claims, the unique period key), because APScheduler's own advice is
never to share a job store between schedulers, and an operator may still start two.

Stopping: SIGTERM or SIGINT sets one ``threading.Event``. A running send sees it between
two batches, marks the batch it has in flight and returns; its lease is released, the
job run recorded as ``stopped``, and the process exits 0. The next start resumes the
mailing left in ``sending`` (``jobs.catch_up`` runs at once on start).

The store going away: a job that fails with a ``StoreError`` (the SQLite file locked by
another process, the PostgreSQL server restarting) logs one line and runs again after
``[schedule] store_retry_seconds``, doubling per failure in a row up to
``MAX_STORE_RETRY_SECONDS``; the daemon keeps running. Those retries live in a job store
in memory (``RETRY_STORE``), because the database may be the very thing that is down.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from pipeline.clock import Clock, SystemClock
from pipeline.config import Settings
from pipeline.deliver import Transport
from pipeline.errors import StoreError
from pipeline.schedule import jobs
from pipeline.schedule.plan import (
    JOB_TABLE,
    SYNC_SECONDS,
    JobSpec,
    job_plan,
    press_plan,
    stored_next_runs,
    upcoming,
)
from pipeline.store import Store

__all__ = ["Daemon", "job_plan", "run_job", "stored_next_runs", "upcoming"]

log = logging.getLogger(__name__)

RETRY_STORE = "retries"
MAX_STORE_RETRY_SECONDS = 900.0


class _Registry:
    """The daemon running in this process: persisted jobs hold only a job name, so the
    job store never pickles a database handle; they find their context here."""

    current: Daemon | None = None


def run_job(name: str, mailing_id: int | None = None) -> bool:
    """The one function every stored job calls (by reference, so it survives restarts).

    True when the job ran, False when it did not (no daemon, stopping, or put off
    because the store failed)."""
    daemon = _Registry.current
    if daemon is None:
        log.warning("job fired without a running daemon", extra={"job": name})
        return False
    return daemon.run(name, mailing_id)


class Daemon:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        clock: Clock | None = None,
        worker: str | None = None,
        transport_factory: Callable[[], Transport] | None = None,
        threads: int = 4,
    ) -> None:
        from pipeline.deliver import require_ready

        # Refuse now, not at Friday 10:00: its send jobs would fail on it every minute.
        require_ready(settings)
        self.settings = settings
        self.store = store
        self.ctx = jobs.JobContext(
            settings=settings,
            store=store,
            clock=clock or SystemClock(),
            transport_factory=transport_factory,
        )
        if worker:
            self.ctx.worker = worker
        # Jobs running now; ``stop`` waits for them before shutting the scheduler down,
        # because APScheduler's shutdown holds the lock a job needs to touch its jobs.
        self._running = 0
        self._idle = threading.Condition()
        # Store failures in a row per job, for the retry's backoff.
        self._store_failures: dict[str, int] = {}
        self.ctx.dispatch = self.dispatch
        self.ctx.reschedule = self.reschedule_press
        self.scheduler = BackgroundScheduler(
            jobstores={"default": store.job_store(JOB_TABLE), RETRY_STORE: MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(threads)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": settings.schedule.misfire_grace_seconds,
            },
            timezone=settings.organisation.tz,
        )

    @property
    def stop_event(self) -> threading.Event:
        return self.ctx.stop

    # --- jobs ----------------------------------------------------------------------

    def run(self, name: str, mailing_id: int | None = None) -> bool:
        """Run one job; a ``StoreError`` puts it off (``retry_later``) instead of raising."""
        with self._idle:
            if self.ctx.stop.is_set():
                return False  # stopping: start nothing new
            self._running += 1
        try:
            self._run(name, mailing_id)
        except StoreError as exc:
            self.retry_later(name, mailing_id, exc)
            return False
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()
        self._store_failures.pop(_retry_id(name, mailing_id), None)
        return True

    def retry_later(self, name: str, mailing_id: int | None, exc: StoreError) -> None:
        """Run the job again after the backoff; one log line, no traceback."""
        job_id = _retry_id(name, mailing_id)
        failures = self._store_failures.get(job_id, 0) + 1
        self._store_failures[job_id] = failures
        base = self.settings.schedule.store_retry_seconds
        delay = min(base * 2 ** (failures - 1), max(base, MAX_STORE_RETRY_SECONDS))
        log.error(
            "job put off: %s; trying again in %g s",
            exc,
            delay,
            extra={"job": name, "mailing": mailing_id, "failures": failures},
        )
        if self.ctx.stop.is_set() or not self.scheduler.running:
            return
        self.scheduler.add_job(
            run_job,
            DateTrigger(run_date=self.ctx.clock.now() + timedelta(seconds=delay)),
            args=(name, mailing_id),
            id=job_id,
            name=f"retry {name} after a store failure",
            jobstore=RETRY_STORE,
            replace_existing=True,
            misfire_grace_time=None,
        )

    def _run(self, name: str, mailing_id: int | None) -> None:
        ctx = self.ctx
        if name == "collect":
            jobs.collect_job(ctx)
        elif name == "compose":
            jobs.compose_job(ctx)
        elif name == "send":
            jobs.send_newsletter_job(ctx)
        elif name == "bounces":
            jobs.bounces_job(ctx)
        elif name == "mail":
            jobs.mail_job(ctx)
        elif name == "sync":
            self.sync_press_triggers()
            jobs.sync_job(ctx)
        elif name == "press" and mailing_id is not None:
            jobs.release_press_job(ctx, mailing_id)
        elif name == "due" and mailing_id is not None:
            jobs.due_job(ctx, mailing_id)
        else:
            log.warning("unknown job", extra={"job": name})

    def dispatch(self, mailing_id: int) -> None:
        """Run one mailing's send as its own job, so ``sync`` never waits for a send."""
        if mailing_id in self.ctx.active:
            return
        self.scheduler.add_job(
            run_job,
            DateTrigger(run_date=self.ctx.clock.now()),
            args=("due", mailing_id),
            id=f"due:{mailing_id}",
            name=f"send mailing {mailing_id} now",
            replace_existing=True,
            misfire_grace_time=SYNC_SECONDS,
        )

    def reschedule_press(self, mailing_id: int, at: datetime) -> None:
        self.scheduler.add_job(
            run_job,
            DateTrigger(run_date=at),
            args=("press", mailing_id),
            id=f"press:{mailing_id}",
            name=f"release press mailing {mailing_id} at its send time",
            replace_existing=True,
            misfire_grace_time=None,
        )

    def sync_press_triggers(self) -> None:
        """Make the press triggers match the store: send times added, moved or withdrawn."""
        wanted = {
            spec.id: spec
            for spec in press_plan(self.settings, self.store, now=self.ctx.clock.now())
        }
        for job in self.scheduler.get_jobs():
            if job.id.startswith("press:") and job.id not in wanted:
                self._remove(job.id)
        for spec in wanted.values():
            current = self.scheduler.get_job(spec.id)
            if current is None or str(current.trigger) != str(spec.trigger):
                self._add(spec, replace=True)

    # --- lifecycle -----------------------------------------------------------------

    def _add(self, spec: JobSpec, *, replace: bool) -> Job:
        kwargs: dict[str, Any] = {}
        if spec.start_now:
            kwargs["next_run_time"] = self.ctx.clock.now()
        return self.scheduler.add_job(
            run_job,
            spec.trigger,
            args=spec.args,
            id=spec.id,
            name=spec.description,
            misfire_grace_time=spec.misfire_grace_time,
            coalesce=True,
            max_instances=1,
            replace_existing=replace,
            **kwargs,
        )

    def _remove(self, job_id: str) -> None:
        # gone already: another daemon on the same store removed it
        with contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(job_id)

    def install_jobs(self) -> None:
        """Bring the stored jobs in line with the configuration.

        A job whose trigger did not change is kept with its stored next run time, so a
        time missed while the daemon was down is handled by its misfire policy (run once,
        coalesced, within ``misfire_grace_time``) instead of silently moving on.
        """
        plan = {s.id: s for s in job_plan(self.settings, self.store, now=self.ctx.clock.now())}
        for job in self.scheduler.get_jobs(jobstore="default"):
            if job.id not in plan:
                self._remove(job.id)
        for spec in plan.values():
            current = self.scheduler.get_job(spec.id)
            same = (
                current is not None
                and str(current.trigger) == str(spec.trigger)
                and current.misfire_grace_time == spec.misfire_grace_time
                and tuple(current.args) == spec.args
            )
            if same and current is not None and spec.start_now:
                current.modify(next_run_time=self.ctx.clock.now())
            elif not same:
                self._add(spec, replace=True)

    def start(self) -> None:
        """Start the scheduler in the background (``run_forever`` waits for a signal)."""
        if _Registry.current is not None and _Registry.current is not self:
            raise RuntimeError("another daemon already runs in this process")
        _Registry.current = self
        self.scheduler.start(paused=True)
        self.install_jobs()
        self.scheduler.resume()
        for job in self.scheduler.get_jobs():
            log.info(
                "job scheduled",
                extra={"job": job.id, "next_run": _local(self.settings, job.next_run_time)},
            )
        log.warning(
            "daemon started",
            extra={"worker": self.ctx.worker, "jobs": len(self.scheduler.get_jobs())},
        )

    def stop(self, *, wait: bool = True) -> None:
        """Ask running jobs to stop after their batch, wait for them, shut down."""
        self.ctx.stop.set()
        if self.scheduler.running:
            self.scheduler.pause()
            if wait:
                with self._idle:
                    self._idle.wait_for(lambda: self._running == 0)
            self.scheduler.shutdown(wait=wait)
        if _Registry.current is self:
            _Registry.current = None
        log.warning("daemon stopped", extra={"worker": self.ctx.worker})

    def run_forever(self, *, handle_signals: bool = True) -> None:
        """Run until SIGTERM/SIGINT (or ``stop_event``), then stop cleanly."""
        if handle_signals:

            def on_signal(signum: int, _frame: FrameType | None) -> None:
                log.warning("stopping: finishing the batch in flight", extra={"signal": signum})
                self.ctx.stop.set()

            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)
        self.start()
        try:
            while not self.ctx.stop.wait(0.5):
                pass
        finally:
            self.stop()


def _retry_id(name: str, mailing_id: int | None) -> str:
    return f"retry:{name}" if mailing_id is None else f"retry:{name}:{mailing_id}"


def _local(settings: Settings, when: datetime | None) -> str:
    if when is None:
        return "-"
    return when.astimezone(settings.organisation.tz).isoformat(timespec="seconds")
