"""The lifecycle's rules on top of the one table of steps (``models.MAILING_STEPS``).

    draft ──approve──▶ approved ───────────────▶ sending ──▶ sent
      │  (a send time ahead) ▶ scheduled ─(due)─▶   │  ▲
      ▲──── edit ──── approved | scheduled          ▼  │
                                                  paused
    draft | approved | scheduled | paused ──cancel──▶ cancelled
    approved ──send now──▶ scheduled (for now: the daemon sends it)

- Approving a mailing whose send time lies ahead makes it ``scheduled``; otherwise it
  is ``approved`` and goes out when sent: a newsletter at its cron time, a press release
  at a send time that has passed, or when an editor sends it (``send_soon`` makes it
  ``scheduled`` for now, the daemon sends it; ``rundbrief send``). Approving alone
  never starts the send of a press release without a send time.
- Every edit of an approved or scheduled mailing returns it to ``draft``: what was
  approved is exactly what is sent. That includes setting or clearing the send time,
  because the render states it (the embargo line of a press release, the issue date).
- Once sending has started a mailing can no longer be edited; it can be paused,
  resumed and (when paused) cancelled.
"""

from __future__ import annotations

from datetime import datetime

from pipeline.errors import TransitionError
from pipeline.models import MAILING_STEPS, Mailing, MailingStatus

S = MailingStatus

EDITABLE = frozenset({S.DRAFT, S.APPROVED, S.SCHEDULED})
SENDABLE = frozenset({S.APPROVED, S.SCHEDULED})
CANCELLABLE = frozenset(s for s, t in MAILING_STEPS if t == S.CANCELLED)
# Newsletters in these states have gone out or are committed to; their items are used.
COMMITTED = frozenset({S.APPROVED, S.SCHEDULED, S.SENDING, S.PAUSED, S.SENT})


def allowed(current: MailingStatus, wanted: MailingStatus) -> bool:
    return (current, wanted) in MAILING_STEPS


def require(mailing: Mailing, wanted: MailingStatus) -> None:
    """``TransitionError`` unless the mailing may take the step to ``wanted``."""
    if not allowed(mailing.status, wanted):
        raise TransitionError(
            f"mailing {mailing.id} is {mailing.status}; it cannot become {wanted}",
            mailing_id=mailing.id,
            current=str(mailing.status),
            wanted=str(wanted),
        )


def require_editable(mailing: Mailing) -> None:
    if mailing.status not in EDITABLE:
        raise TransitionError(
            f"mailing {mailing.id} is {mailing.status}; it can no longer be edited",
            mailing_id=mailing.id,
            current=str(mailing.status),
            wanted=str(S.DRAFT),
        )


def approval_target(mailing: Mailing, now: datetime) -> MailingStatus:
    """``scheduled`` when the send time lies ahead, else ``approved``."""
    if mailing.send_at is not None and mailing.send_at > now:
        return S.SCHEDULED
    return S.APPROVED


def is_due(mailing_send_at: datetime | None, now: datetime) -> bool:
    """Whether a send time (None: none) has come."""
    return mailing_send_at is None or mailing_send_at <= now
