"""The one rule for a mailing's two times: when it goes out, and its Sperrfrist.

    send_at     when it goes out (None: as soon as it is approved, or sent by hand)
    embargo_at  press only: when it may be published (None: at once)

Journalists get a release under embargo *before* they may publish it, so they can
prepare: the embargo is never before the send time (nor before now, when the release
goes out on approval). A time given must lie ahead; a time without a zone is refused
(the adapters read local input in the organisation's zone). The messages name each time
in the organisation's zone, the way the editor typed it.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from pipeline.errors import TimesRefused
from pipeline.models import MailingKind


def local(when: datetime, tz: tzinfo) -> str:
    """An instant as people read it, in the organisation's zone (``2026-12-03 10:00``)."""
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def check_times(
    *,
    send_at: datetime | None,
    embargo_at: datetime | None,
    now: datetime,
    tz: tzinfo,
    kind: MailingKind = MailingKind.PRESS,
    changed: frozenset[str] = frozenset({"send_at", "embargo_at"}),
    mailing_id: int | None = None,
) -> None:
    """``ComposeError`` (with ``field`` ``send_at`` or ``embargo``) unless both times fit.

    ``changed``: the times being set now; only those must lie ahead (a send time that
    passed while a mailing waited is not the editor's doing), the order is always checked.
    """
    zone = getattr(tz, "key", str(tz))
    for name, value, field, words in (
        ("send_at", send_at, "send_at", "the send time"),
        ("embargo_at", embargo_at, "embargo", "the embargo"),
    ):
        if value is None or name not in changed:
            continue
        if value.tzinfo is None:
            raise TimesRefused(
                f"{words} needs a time zone (or use the local time form)",
                field=field,
                problem="no_zone",
                mailing_id=mailing_id,
            )
        if value <= now:
            raise TimesRefused(
                f"{words} {local(value, tz)} ({zone}) is in the past; it is {local(now, tz)} now",
                field=field,
                problem="past",
                at=value,
                other=now,
                mailing_id=mailing_id,
            )
    if embargo_at is None:
        return
    if kind != MailingKind.PRESS:
        raise TimesRefused(
            "only a press release has an embargo (a newsletter has a send time)",
            field="embargo",
            problem="newsletter",
            at=embargo_at,
            mailing_id=mailing_id,
        )
    if send_at is not None and embargo_at < send_at:
        raise TimesRefused(
            f"the embargo {local(embargo_at, tz)} is before the send time "
            f"{local(send_at, tz)} ({zone}): journalists would get the release after "
            f"they may publish it; set the embargo later or the send time earlier",
            field="embargo",
            problem="before_send",
            at=embargo_at,
            other=send_at,
            mailing_id=mailing_id,
        )


def check_not_passed(
    embargo_at: datetime | None, *, now: datetime, tz: tzinfo, mailing_id: int
) -> None:
    """``TimesRefused`` at approval when the embargo ran out: the subject would announce
    a Sperrfrist that is over."""
    if embargo_at is not None and embargo_at <= now:
        raise TimesRefused(
            f"mailing {mailing_id}: its embargo {local(embargo_at, tz)} has passed; set a "
            f"new one or remove it, then approve",
            field="embargo",
            problem="passed",
            at=embargo_at,
            other=now,
            mailing_id=mailing_id,
        )
