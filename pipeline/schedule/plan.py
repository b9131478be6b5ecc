"""The jobs a configuration asks for (``job_plan``), for the daemon to install and for
``rundbrief jobs`` to list with their next run; no scheduler is started here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.config import Settings
from pipeline.errors import StoreError
from pipeline.models import MailingKind, MailingStatus
from pipeline.schedule.periods import cron_trigger
from pipeline.store import Store
from pipeline.store import schedule as q

log = logging.getLogger(__name__)

JOB_TABLE = "scheduler_jobs"
SYNC_SECONDS = 60
MAIL_SECONDS = 60


@dataclass(frozen=True)
class JobSpec:
    """One job the configuration asks for: what ``rundbrief jobs`` lists, what runs."""

    id: str
    description: str
    trigger: BaseTrigger
    misfire_grace_time: int | None
    args: tuple[Any, ...] = ()
    start_now: bool = False  # first start: run at once (interval jobs, sync)


def job_plan(settings: Settings, store: Store, *, now: datetime) -> list[JobSpec]:
    """The jobs this configuration and store want now (press triggers included)."""
    sched = settings.schedule
    tz = settings.organisation.tz
    grace = sched.misfire_grace_seconds
    collect_every = sched.collect_every_minutes * 60
    plan = [
        JobSpec(
            "collect",
            f"collect every {sched.collect_every_minutes} min",
            IntervalTrigger(minutes=sched.collect_every_minutes, timezone=tz),
            collect_every,
            ("collect",),
            start_now=True,
        ),
        JobSpec(
            "compose",
            f"compose the newsletter ({sched.compose_newsletter})",
            cron_trigger(sched.compose_newsletter, tz, key="schedule.compose_newsletter"),
            grace,
            ("compose",),
        ),
        JobSpec(
            "send",
            "send the newsletter"
            + (" (auto-approve)" if sched.auto_approve else " if approved")
            + f" ({sched.send_newsletter})",
            cron_trigger(sched.send_newsletter, tz, key="schedule.send_newsletter"),
            grace,
            ("send",),
        ),
        JobSpec(
            "sync",
            "catch up, resume, re-sync send times, notify (every minute)",
            IntervalTrigger(seconds=SYNC_SECONDS, timezone=tz),
            SYNC_SECONDS,
            ("sync",),
            start_now=True,
        ),
        JobSpec(
            "mail",
            "send queued system mail: confirmations, notifications, test copies (every minute)",
            IntervalTrigger(seconds=MAIL_SECONDS, timezone=tz),
            MAIL_SECONDS,
            ("mail",),
            start_now=True,
        ),
    ]
    if settings.bounces.source:
        plan.append(
            JobSpec(
                "bounces",
                f"process bounces every {sched.bounces_every_minutes} min",
                IntervalTrigger(minutes=sched.bounces_every_minutes, timezone=tz),
                sched.bounces_every_minutes * 60,
                ("bounces",),
                start_now=True,
            )
        )
    plan.extend(press_plan(settings, store, now=now))
    return plan


def press_plan(settings: Settings, store: Store, *, now: datetime) -> list[JobSpec]:
    """A date trigger per scheduled mailing (a press release or a newsletter with
    its own send time) whose time lies ahead."""
    out = []
    for state in q.mailings_in(store, (MailingStatus.APPROVED, MailingStatus.SCHEDULED)):
        if state.kind != MailingKind.PRESS and state.status != MailingStatus.SCHEDULED:
            continue  # an approved newsletter goes out at the cron send time
        if state.send_at is None or state.send_at <= now:
            continue  # due now: ``sync`` releases it
        what = "press mailing" if state.kind == MailingKind.PRESS else "newsletter"
        out.append(
            JobSpec(
                f"press:{state.id}",
                f"release {what} {state.id} at its send time",
                DateTrigger(run_date=state.send_at, timezone=settings.organisation.tz),
                # The job itself holds a send that is too late (max_send_delay_minutes).
                None,
                ("press", state.id),
            )
        )
    return out


def stored_next_runs(store: Store) -> dict[str, datetime | None]:
    """Next run times the daemon stored (empty if it never ran on this store)."""
    if not q.has_table(store, JOB_TABLE):
        return {}
    jobstore = store.job_store(JOB_TABLE)
    out: dict[str, datetime | None] = {}
    try:
        for job in jobstore.get_all_jobs():
            out[job.id] = job.next_run_time
    except StoreError:
        raise
    except Exception:  # unreadable pickles from another version: show the plan only
        log.warning("cannot read the stored jobs", exc_info=True)
        return {}
    return out


def upcoming(
    settings: Settings, store: Store, *, now: datetime
) -> list[tuple[JobSpec, datetime | None]]:
    """Each planned job with its next run: the stored one if the daemon ran, else computed."""
    stored = stored_next_runs(store)
    out = []
    for spec in job_plan(settings, store, now=now):
        if spec.id in stored and stored[spec.id] is not None:
            nxt = stored[spec.id]
            if nxt is not None and nxt < now and not isinstance(spec.trigger, DateTrigger):
                nxt = spec.trigger.get_next_fire_time(None, now)
        else:
            nxt = spec.trigger.get_next_fire_time(None, now)
        out.append((spec, nxt.astimezone(settings.organisation.tz) if nxt else None))
    return out
