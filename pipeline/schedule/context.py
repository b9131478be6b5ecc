"""What every job shares: its context (settings, store, clock, worker, stop event), its
result, and the recording of each run in ``job_runs``."""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pipeline import notify
from pipeline.access import Actor
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.deliver import Transport, worker_id
from pipeline.errors import RundbriefError, StoreError
from pipeline.mailings import Workflow
from pipeline.store import Store
from pipeline.store import schedule as q

log = logging.getLogger(__name__)

Dispatch = Callable[[int], None]
Reschedule = Callable[[int, datetime], None]


@dataclass
class JobContext:
    """What every job needs; the daemon builds one, tests build their own."""

    settings: Settings
    store: Store
    clock: Clock
    worker: str = field(default_factory=worker_id)
    stop: threading.Event = field(default_factory=threading.Event)
    # Builds the transport for sends and notifications (default: from the settings).
    transport_factory: Callable[[], Transport] | None = None
    # In the daemon: run a send as its own job, so a long send never blocks ``sync``.
    dispatch: Dispatch | None = None
    # In the daemon: put a press trigger back when a job woke before the send time.
    reschedule: Reschedule | None = None
    active: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class JobResult:
    job: str
    outcome: str  # ok | skipped | held | waiting | stopped | error
    detail: str = ""
    mailing_id: int | None = None


def recorded(ctx: JobContext, job: str, body: Callable[[], JobResult]) -> JobResult:
    """Run a job body, recording it in ``job_runs``; an error is logged, never raised.

    Except a ``StoreError``: the run is recorded as an error if the store lets us, and
    the error goes on to the daemon, which runs the job again later."""
    run_id = q.start_job_run(ctx.store, job, now=ctx.clock.now())
    try:
        result = body()
    except StoreError as exc:
        with contextlib.suppress(StoreError):
            q.finish_job_run(
                ctx.store, run_id, now=ctx.clock.now(), outcome="error", detail=str(exc)
            )
        raise
    except RundbriefError as exc:
        log.error("job failed", extra={"job": job, "error": str(exc)})
        result = JobResult(job, "error", str(exc))
    except Exception as exc:  # a bug must not kill the daemon: log it, keep the schedule
        log.error("job crashed", extra={"job": job}, exc_info=True)
        detail = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
        result = JobResult(job, "error", detail[:2000])
    q.finish_job_run(
        ctx.store, run_id, now=ctx.clock.now(), outcome=result.outcome, detail=result.detail
    )
    log.info("job finished", extra={"job": job, "outcome": result.outcome, "detail": result.detail})
    return result


def tell(ctx: JobContext, key: str, subject: str, body: str, *, to: str | None = None) -> bool:
    return notify.notify(
        ctx.settings,
        ctx.store,
        key=key,
        subject=subject,
        body=body,
        clock=ctx.clock,
        to=to,
        transport_factory=ctx.transport_factory,
    )


def operator(ctx: JobContext) -> Actor:
    """Who the daemon acts as (compose, test copies, auto_approve): the ``[accounts]
    operator`` account with its role, else the built-in operator (an approver, the least
    role its jobs need). The one place the daemon builds its actor."""
    from pipeline.accounts import Accounts

    return Accounts(ctx.store, ctx.settings, ctx.clock).operator()


def workflow(ctx: JobContext) -> Workflow:
    """The workflow layer with the daemon's store, clock and transport."""
    return Workflow(ctx.settings, ctx.store, ctx.clock, transport_factory=ctx.transport_factory)


def local_time(ctx: JobContext, instant: datetime) -> str:
    return instant.astimezone(ctx.settings.organisation.tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def preview_url(settings: Settings, mailing_id: int) -> str:
    return f"{settings.web.base_url}/editor/mailings/{mailing_id}"
