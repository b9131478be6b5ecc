"""The schedule's queries: mailing states, job runs, notifications and the status view.

Starting a send and who sends it are the lease's (``store.outbox``, ``deliver.lease``).
Everything here returns frozen values, never rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError

from pipeline.models import MailingKind, MailingStatus
from pipeline.store import Store
from pipeline.store.schema import deliveries, feeds, job_runs, mailings, notifications

S = MailingStatus
SENDABLE = (S.APPROVED, S.SCHEDULED)


@dataclass(frozen=True)
class ScheduleView:
    """What the scheduler needs to know about a mailing (not the whole mailing)."""

    id: int
    kind: MailingKind
    status: MailingStatus
    subject: str
    period_key: str | None
    send_at: datetime | None
    approved_at: datetime | None
    sending_started_at: datetime | None
    sent_at: datetime | None


@dataclass(frozen=True)
class JobRun:
    id: int
    job: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    detail: str | None


@dataclass(frozen=True)
class Notification:
    id: int
    key: str
    subject: str
    body: str
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class FailingFeed:
    name: str
    failures: int
    flagged: bool
    enabled: bool
    last_error: str | None
    last_success_at: datetime | None


_MAILING_COLUMNS = (
    mailings.c.id,
    mailings.c.kind,
    mailings.c.status,
    mailings.c.subject,
    mailings.c.period_key,
    mailings.c.send_at,
    mailings.c.approved_at,
    mailings.c.sending_started_at,
    mailings.c.sent_at,
)


def _state(row: Any) -> ScheduleView:
    return ScheduleView(row[0], MailingKind(row[1]), MailingStatus(row[2]), *row[3:])


def has_table(store: Store, name: str) -> bool:
    return bool(inspect(store.engine).has_table(name))


def mailing_state(store: Store, mailing_id: int) -> ScheduleView | None:
    with store.connect() as conn:
        row = conn.execute(select(*_MAILING_COLUMNS).where(mailings.c.id == mailing_id)).first()
    return _state(row) if row is not None else None


def mailing_for_period(store: Store, period_key: str) -> ScheduleView | None:
    with store.connect() as conn:
        row = conn.execute(
            select(*_MAILING_COLUMNS).where(mailings.c.period_key == period_key)
        ).first()
    return _state(row) if row is not None else None


def mailings_in(
    store: Store, statuses: Iterable[MailingStatus], *, kind: MailingKind | None = None
) -> list[ScheduleView]:
    query = select(*_MAILING_COLUMNS).where(mailings.c.status.in_([str(s) for s in statuses]))
    if kind is not None:
        query = query.where(mailings.c.kind == str(kind))
    with store.connect() as conn:
        return [_state(r) for r in conn.execute(query.order_by(mailings.c.id))]


# --- job runs --------------------------------------------------------------------------


def start_job_run(store: Store, job: str, *, now: datetime) -> int:
    with store.begin() as conn:
        result = conn.execute(insert(job_runs).values(job=job, started_at=now))
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def finish_job_run(
    store: Store, run_id: int, *, now: datetime, outcome: str, detail: str | None = None
) -> None:
    with store.begin() as conn:
        conn.execute(
            update(job_runs)
            .where(job_runs.c.id == run_id)
            .values(finished_at=now, outcome=outcome[:16], detail=detail)
        )


def last_job_runs(store: Store) -> dict[str, JobRun]:
    """The latest run of every job name."""
    latest = (
        select(job_runs.c.job, func.max(job_runs.c.id).label("id"))
        .group_by(job_runs.c.job)
        .subquery()
    )
    query = select(
        job_runs.c.id,
        job_runs.c.job,
        job_runs.c.started_at,
        job_runs.c.finished_at,
        job_runs.c.outcome,
        job_runs.c.detail,
    ).join(latest, latest.c.id == job_runs.c.id)
    with store.connect() as conn:
        return {row.job: JobRun(*row) for row in conn.execute(query)}


def job_ran_since(store: Store, job: str, since: datetime) -> bool:
    query = select(func.count()).where(job_runs.c.job == job, job_runs.c.started_at >= since)
    with store.connect() as conn:
        return bool(conn.execute(query).scalar())


# --- notifications ---------------------------------------------------------------------


def add_notification(
    store: Store, *, key: str, subject: str, body: str, now: datetime
) -> int | None:
    """Record an event once; None when the key was recorded before (already told)."""
    try:
        with store.begin() as conn:
            result = conn.execute(
                insert(notifications).values(
                    key=key[:300], subject=subject, body=body, created_at=now
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]
    except IntegrityError:
        return None


def notification_exists(store: Store, key: str) -> bool:
    with store.connect() as conn:
        found = conn.execute(
            select(notifications.c.id).where(notifications.c.key == key[:300])
        ).first()
    return found is not None


def claim_notification(store: Store, notification_id: int, *, now: datetime) -> bool:
    """Mark an unsent notification sent before retrying it: one retrier wins."""
    stmt = (
        update(notifications)
        .where(notifications.c.id == notification_id, notifications.c.sent_at.is_(None))
        .values(sent_at=now)
    )
    with store.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def unclaim_notification(store: Store, notification_id: int) -> None:
    with store.begin() as conn:
        conn.execute(
            update(notifications).where(notifications.c.id == notification_id).values(sent_at=None)
        )


def mark_notification_sent(store: Store, notification_id: int, *, now: datetime) -> None:
    with store.begin() as conn:
        conn.execute(
            update(notifications).where(notifications.c.id == notification_id).values(sent_at=now)
        )


def list_notifications(
    store: Store,
    *,
    unsent_only: bool = False,
    since: datetime | None = None,
    key_prefix: str | None = None,
    limit: int = 100,
) -> list[Notification]:
    query = select(
        notifications.c.id,
        notifications.c.key,
        notifications.c.subject,
        notifications.c.body,
        notifications.c.created_at,
        notifications.c.sent_at,
    )
    if unsent_only:
        query = query.where(notifications.c.sent_at.is_(None))
    if since is not None:
        query = query.where(notifications.c.created_at >= since)
    if key_prefix is not None:
        query = query.where(notifications.c.key.startswith(key_prefix, autoescape=True))
    query = query.order_by(notifications.c.id.desc()).limit(limit)
    with store.connect() as conn:
        return [Notification(*row) for row in conn.execute(query)]


# --- status ----------------------------------------------------------------------------


def delivery_counts(store: Store, mailing_id: int) -> dict[str, int]:
    query = (
        select(deliveries.c.status, func.count())
        .where(deliveries.c.mailing_id == mailing_id)
        .group_by(deliveries.c.status)
    )
    with store.connect() as conn:
        return {str(status): int(count) for status, count in conn.execute(query)}


def mailing_counts(store: Store) -> dict[tuple[str, str], int]:
    query = select(mailings.c.kind, mailings.c.status, func.count()).group_by(
        mailings.c.kind, mailings.c.status
    )
    with store.connect() as conn:
        return {(str(k), str(s)): int(n) for k, s, n in conn.execute(query)}


def recent_sends(store: Store, *, limit: int = 5) -> list[ScheduleView]:
    """Mailings that started sending, newest first."""
    query = (
        select(*_MAILING_COLUMNS)
        .where(mailings.c.sending_started_at.is_not(None))
        .order_by(mailings.c.sending_started_at.desc(), mailings.c.id.desc())
        .limit(limit)
    )
    with store.connect() as conn:
        return [_state(r) for r in conn.execute(query)]


def failing_feeds(store: Store) -> list[FailingFeed]:
    query = (
        select(
            feeds.c.name,
            feeds.c.failures,
            feeds.c.flagged,
            feeds.c.enabled,
            feeds.c.last_error,
            feeds.c.last_success_at,
        )
        .where(or_(feeds.c.failures > 0, feeds.c.flagged.is_(True), feeds.c.enabled.is_(False)))
        .order_by(feeds.c.failures.desc(), feeds.c.name)
    )
    with store.connect() as conn:
        return [FailingFeed(*row) for row in conn.execute(query)]
