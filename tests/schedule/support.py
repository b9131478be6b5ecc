"""Helpers for the schedule tests: mailings in a real store, the Maildir as the inbox."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import update

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.schedule.jobs import JobContext
from pipeline.store import Store
from pipeline.store.schema import mailings
from tests.deliver.support import SECRET, add_mailing, add_subscribers

__all__ = ["SECRET", "add_mailing", "add_newsletter", "add_subscribers"]

# Thursday 18 June 2026, 14:00 in Berlin (CEST, UTC+2): the default compose time.
THURSDAY_14 = datetime(2026, 6, 18, 12, 0, tzinfo=UTC)
# Friday 19 June 2026, 10:00 in Berlin: the default send time of week 25.
FRIDAY_10 = datetime(2026, 6, 19, 8, 0, tzinfo=UTC)
WEEK_25 = "newsletter:2026-W25"


def add_newsletter(
    store: Store, clock: FakeClock, *, status: str = "approved", period_key: str = WEEK_25
) -> int:
    mailing_id = add_mailing(store, clock, status=status)
    with store.begin() as conn:
        conn.execute(
            update(mailings).where(mailings.c.id == mailing_id).values(period_key=period_key)
        )
    return mailing_id


def context(settings: Settings, store: Store, clock: FakeClock, **kwargs: Any) -> JobContext:
    return JobContext(settings=settings, store=store, clock=clock, **kwargs)


def inbox(settings: Settings) -> list[EmailMessage]:
    """Every message the Maildir transport wrote."""
    folder = settings.path(settings.delivery.maildir) / "new"
    out = []
    for path in sorted(folder.glob("*")) if folder.exists() else []:
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        out.append(msg)
    return out


def received_by(messages: list[EmailMessage]) -> Counter[str]:
    return Counter(str(m["To"]).rpartition("<")[2].rstrip(">").lower() for m in messages)


def maildir_recipients(folder: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in (folder / "new").glob("*") if (folder / "new").exists() else []:
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        counts[str(msg["To"]).rpartition("<")[2].rstrip(">").lower()] += 1
    return counts
