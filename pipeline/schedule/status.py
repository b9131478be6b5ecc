"""What ``rundbrief status`` shows: failing feeds, mailings by state, the last sends with
their delivery counts, the last run of every job and the latest notifications."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pipeline.config import Settings
from pipeline.deliver import active_senders
from pipeline.models import MailingStatus
from pipeline.store import Store
from pipeline.store import outbox as outbox_db
from pipeline.store import schedule as q

DAEMON_SILENT_AFTER = timedelta(minutes=3)


def _local(settings: Settings, when: datetime | None) -> str | None:
    if when is None:
        return None
    return when.astimezone(settings.organisation.tz).isoformat(timespec="seconds")


def _senders(settings: Settings, store: Store, mailing_id: int, now: datetime | None) -> list[str]:
    """The live senders of a mailing; without a time, every registered one."""
    if now is None:
        return [worker for worker, _beat in outbox_db.senders(store, mailing_id)]
    lease = settings.delivery.lease_seconds
    return list(active_senders(store, mailing_id, now=now, lease_seconds=lease))


def collect_status(
    settings: Settings, store: Store, *, now: datetime | None = None, sends: int = 5
) -> dict[str, Any]:
    """One JSON-ready document; instants in the organisation's time zone."""
    runs = q.last_job_runs(store)
    sync = runs.get("sync")
    # The daemon runs ``sync`` every minute: a recent run means a daemon is alive.
    alive = sync is not None and now is not None and now - sync.started_at < DAEMON_SILENT_AFTER
    held = []
    for note in q.list_notifications(store, key_prefix="missed:", limit=20):
        state = q.mailing_state(store, int(note.key.partition(":")[2]))
        if state is not None and state.status in (
            MailingStatus.DRAFT,
            MailingStatus.APPROVED,
            MailingStatus.SCHEDULED,
        ):
            held.append(
                {
                    "mailing": state.id,
                    "kind": state.kind,
                    "subject": state.subject,
                    "status": state.status,
                    "held_since": _local(settings, note.created_at),
                }
            )
    mailings: dict[str, dict[str, int]] = {}
    for (kind, status), count in sorted(q.mailing_counts(store).items()):
        mailings.setdefault(kind, {})[status] = count
    return {
        "time_zone": settings.organisation.time_zone,
        "daemon": {
            "running": alive,
            "last_seen": _local(settings, sync.started_at) if sync else None,
        },
        "failing_feeds": [
            {
                "name": f.name,
                "failures": f.failures,
                "flagged": f.flagged,
                "enabled": f.enabled,
                "last_error": f.last_error,
                "last_success": _local(settings, f.last_success_at),
            }
            for f in q.failing_feeds(store)
        ],
        "mailings": mailings,
        # Too late to go out by themselves (schedule.max_send_delay_minutes): an editor
        # sends (rundbrief send ID) or cancels them.
        "held": held,
        # Paused by a fault: why, and when the daemon probes again (None: by hand only).
        "paused": [
            {
                "mailing": m.id,
                "kind": m.kind,
                "reason": m.paused_reason,
                "next_try": _local(settings, m.resume_at),
                "failed_tries": m.resume_tries,
            }
            for m in outbox_db.paused_mailings(store)
        ],
        "last_sends": [
            {
                "mailing": m.id,
                "kind": m.kind,
                "subject": m.subject,
                "status": m.status,
                "started": _local(settings, m.sending_started_at),
                "finished": _local(settings, m.sent_at),
                # the live senders working on it now (``deliver.lease``)
                "senders": _senders(settings, store, m.id, now)
                if m.status == MailingStatus.SENDING
                else [],
                "deliveries": q.delivery_counts(store, m.id),
            }
            for m in q.recent_sends(store, limit=sends)
        ],
        "jobs": {
            name: {
                "started": _local(settings, run.started_at),
                "finished": _local(settings, run.finished_at),
                "outcome": run.outcome or "running",
                "detail": run.detail,
            }
            for name, run in sorted(runs.items())
        },
        "notifications": [
            {
                "key": n.key,
                "subject": n.subject,
                "created": _local(settings, n.created_at),
                "mailed": _local(settings, n.sent_at),
            }
            for n in q.list_notifications(store, limit=10)
        ],
    }
