"""Pure time arithmetic for the schedule: cron fire times and period starts (the period
keys themselves are the workflow's: ``pipeline.mailings.newsletter_key``).

Everything here works in the organisation's time zone and returns aware UTC instants,
so "Thursday 14:00" stays 14:00 on the wall clock when the UTC offset changes on the
last Sundays of March and October. No I/O, no clock: callers pass the instant.

Cron expressions are the usual five fields (minute hour day month day-of-week), validated
and split by ``pipeline.config.cron_fields`` (cron's day numbers, Sunday = 0 or 7).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger

from pipeline.config import cron_fields
from pipeline.errors import ScheduleError
from pipeline.mailings import Period

# Growing windows to look back for the previous fire time: dense crons are found in the
# first, weekly ones in the third, monthly in the fourth; each step is a bounded scan.
_LOOKBACK = (
    timedelta(hours=2),
    timedelta(days=2),
    timedelta(days=8),
    timedelta(days=32),
    timedelta(days=370),
)


def _repeated_wall_time(moment: datetime) -> bool:
    """True for the second pass of a wall-clock time the autumn change shows twice."""
    return moment.fold == 1 and moment.replace(fold=0).utcoffset() != moment.utcoffset()


class LocalCronTrigger(CronTrigger):  # type: ignore[misc]
    """APScheduler's cron trigger, firing once per wall-clock time across DST changes.

    APScheduler 3 fires a job at 02:30 twice when October repeats that hour, and then
    keeps returning the second 02:30 for ever (the scheduler would run the job in a
    loop). Like cron, we fire at the first 02:30 only and move on. A time that March
    skips (02:30 does not exist) fires once, at the same offset past the gap.
    """

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        candidate: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        for _ in range(100):
            if candidate is None:
                return None
            stale = previous_fire_time is not None and candidate <= previous_fire_time
            if not stale and not _repeated_wall_time(candidate):
                return candidate
            later = candidate.astimezone(UTC) + timedelta(seconds=1)
            candidate = super().get_next_fire_time(None, later.astimezone(self.timezone))
        raise ScheduleError(f"cron trigger {self} does not advance past {candidate}")


def cron_trigger(expr: str, tz: tzinfo, *, key: str = "cron") -> CronTrigger:
    """Parse a five-field cron expression in ``tz``; ``ScheduleError`` names ``key``."""
    try:
        return LocalCronTrigger(**cron_fields(expr), timezone=tz)
    except ValueError as exc:
        message = str(exc)
        if not message.startswith(("cron ", "expected")):
            message = f"invalid cron expression {expr!r}: {message}"
        raise ScheduleError(f"{key}: {message}") from exc


def next_fire(expr: str, after: datetime, tz: tzinfo) -> datetime | None:
    """The first fire time strictly after ``after`` (UTC), or None if there is none."""
    trigger = cron_trigger(expr, tz)
    start = (after + timedelta(microseconds=1)).astimezone(tz)
    found = trigger.get_next_fire_time(None, start)
    return found.astimezone(UTC) if found is not None else None


def fires_between(expr: str, start: datetime, end: datetime, tz: tzinfo) -> list[datetime]:
    """Every fire time in ``[start, end]`` (UTC), in order."""
    trigger = cron_trigger(expr, tz)
    out: list[datetime] = []
    current = trigger.get_next_fire_time(None, start.astimezone(tz))
    while current is not None and current <= end:
        out.append(current.astimezone(UTC))
        current = trigger.get_next_fire_time(current, current + timedelta(microseconds=1))
    return out


def previous_fire(expr: str, at: datetime, tz: tzinfo) -> datetime | None:
    """The last fire time at or before ``at`` (UTC): when a job was due most recently."""
    trigger = cron_trigger(expr, tz)
    for window in _LOOKBACK:
        last: datetime | None = None
        current = trigger.get_next_fire_time(None, (at - window).astimezone(tz))
        while current is not None and current <= at:
            last = current
            current = trigger.get_next_fire_time(current, current + timedelta(microseconds=1))
        if last is not None:
            return last.astimezone(UTC)
    return None


def period_start(instant: datetime, tz: tzinfo, period: Period = "iso_week") -> datetime:
    """Local midnight at the start of the instant's period, as UTC."""
    local = instant.astimezone(tz)
    if period == "month":
        first = local.date().replace(day=1)
    else:
        first = local.date() - timedelta(days=local.weekday())
    return datetime(first.year, first.month, first.day, tzinfo=tz).astimezone(UTC)
