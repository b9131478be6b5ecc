"""The one rule of what the public may see: the archive pages and the public API
(``/api/v1/archive``) both ask ``published``, so a release under embargo cannot show up
on one of them a second earlier than on the other."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pipeline.models import Mailing, MailingStatus

# Recipients hold "view in browser" links from the first delivery on, so a mailing that
# is still sending (or paused) is as public as a sent one.
OUT = (MailingStatus.SENDING, MailingStatus.PAUSED, MailingStatus.SENT)


def published(mailing: Mailing | None, now: datetime) -> bool:
    """Whether a mailing may be shown publicly at ``now``: it went out, and its embargo
    (if any) has passed, to the second. Journalists hold a release under embargo before
    then; the public must not see it earlier than they may publish it."""
    if mailing is None or mailing.status not in OUT:
        return False
    if mailing.under_embargo(now):
        return False
    return mailing.send_at is None or mailing.send_at <= now


def newest_first(mailings: Iterable[Mailing], now: datetime) -> list[Mailing]:
    """The published ones of ``mailings``, the last sent first."""
    shown = [m for m in mailings if published(m, now)]
    shown.sort(key=lambda m: (m.sent_at or m.created_at, m.id), reverse=True)
    return shown
