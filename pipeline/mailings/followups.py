"""Follow-ups of a press release: correction, update, lifting of the embargo, withdrawal.

    check (the rules) ─▶ compose (a press draft tied to the original) ─▶ approve and
    send like any press release (four-eyes rule included) ─▶ after_send (a lift moves
    the original's embargo)

The rules, in this one place:

- A follow-up follows a press release (not a newsletter, not another follow-up) that
  was delivered to someone. It goes to exactly the addresses that release was
  delivered to, minus who unsubscribed from its lists or was suppressed since, whatever
  the lists say now (the outbox records it so: ``deliver.outbox``).
- A correction or an update needs the press officer's text; a lift or a withdrawal gets
  a default text naming the original and its times in the organisation's zone.
- A lift only while the original's embargo is still ahead (at compose and at approval,
  and ahead of the lift's own send time); once the lift is sent the original's embargo
  moves to that instant, so the archive shows the release from then on.
- After a withdrawal has gone out, the original's archive page says it was withdrawn
  instead of showing it, and no further follow-up is written for it.
- A correction or an update sent while the original is under embargo carries the same
  embargo (it is part of the release).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pipeline import render
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.errors import FollowUpRefused
from pipeline.mailings import times, written
from pipeline.mailings.compose import check_press_times
from pipeline.models import FollowKind, Mailing, MailingKind, MailingStatus
from pipeline.store import Store
from pipeline.store import followups as store_followups
from pipeline.store import items as store_items
from pipeline.store import mailings as store_mailings

S = MailingStatus
# A mailing in these states has gone out (or is going out) to people.
OUT = frozenset({S.SENDING, S.PAUSED, S.SENT})
KINDS = tuple(str(k) for k in FollowKind)
# What the audit log and the CLI call each kind.
NAMES = {
    FollowKind.CORRECTION: "correction",
    FollowKind.UPDATE: "update",
    FollowKind.LIFT: "lift of the embargo",
    FollowKind.WITHDRAW: "withdrawal",
}


def parse_kind(value: str | FollowKind) -> FollowKind:
    """The kind named by ``value``; ``ComposeError`` (field ``kind``) naming the choices."""
    try:
        return FollowKind(str(value).strip().lower())
    except ValueError:
        raise FollowUpRefused(
            f"follow-up kind {value!r} is not one of {', '.join(KINDS)}",
            field="kind",
            problem="kind",
        ) from None


def went_out(follow_ups: Sequence[Mailing]) -> list[Mailing]:
    """The follow-ups that have gone out, oldest first."""
    return [m for m in follow_ups if m.status in OUT]


def withdrawal(store: Store, mailing_id: int) -> Mailing | None:
    """The withdrawal of a press release that has gone out, if there is one."""
    for follow_up in went_out(store_followups.follow_ups_of(store, mailing_id)):
        if follow_up.follow_kind == FollowKind.WITHDRAW:
            return follow_up
    return None


def check(
    settings: Settings,
    store: Store,
    original: Mailing,
    kind: FollowKind,
    *,
    now: datetime,
    send_at: datetime | None = None,
) -> None:
    """``ComposeError`` (field ``original`` or ``kind``) unless ``original`` may get a
    follow-up of ``kind`` now (going out at ``send_at``, None: once approved)."""
    tz = settings.organisation.tz
    oid = original.id
    if original.kind != MailingKind.PRESS:
        raise FollowUpRefused(
            f"mailing {oid} is a newsletter; only a press release gets follow-ups",
            field="original",
            mailing_id=oid,
            problem="newsletter",
        )
    if original.follows_id is not None:
        raise FollowUpRefused(
            f"mailing {oid} is itself a follow-up of press release {original.follows_id}; "
            f"write the follow-up for {original.follows_id}",
            field="original",
            mailing_id=oid,
            problem="follow_up",
        )
    if original.status not in OUT or store_followups.delivered_count(store, oid) == 0:
        raise FollowUpRefused(
            f"press release {oid} ({original.status}) was not delivered to anyone yet; "
            f"a follow-up goes to those who got it, so there is nobody to send it to"
            + ("; edit the release itself instead" if original.status not in OUT else ""),
            field="original",
            mailing_id=oid,
            problem="not_delivered",
        )
    withdrawn = withdrawal(store, oid)
    if withdrawn is not None:
        raise FollowUpRefused(
            f"press release {oid} was withdrawn (mailing {withdrawn.id}); nothing follows a "
            f"withdrawal",
            field="original",
            mailing_id=oid,
            problem="withdrawn",
        )
    if kind == FollowKind.LIFT:
        if original.embargo_at is None:
            raise FollowUpRefused(
                f"press release {oid} has no embargo to lift",
                field="kind",
                mailing_id=oid,
                problem="no_embargo",
            )
        start = max(now, send_at) if send_at is not None else now
        if original.embargo_at <= start:
            zone = getattr(tz, "key", str(tz))
            raise FollowUpRefused(
                f"the embargo of press release {oid} ends {times.local(original.embargo_at, tz)} "
                f"({zone}), before the lift would go out ({times.local(start, tz)}): there is "
                f"nothing to lift",
                field="kind",
                mailing_id=oid,
                problem="embargo_over",
            )


def _text(
    settings: Settings, original: Mailing, kind: FollowKind, text_md: str | None, language: str
) -> str:
    text = (text_md or "").strip()
    if text:
        return text_md or ""
    # render's words load the template engine on first use, not at import
    default = render.default_follow_up_text(settings, original, kind, language=language)
    if not default:
        raise FollowUpRefused(
            f"a {NAMES[kind]} needs a text: say what changed (Markdown, like a written "
            f"press release)",
            field="text",
            mailing_id=original.id,
            problem="no_text",
        )
    return default


def compose(
    settings: Settings,
    store: Store,
    original: Mailing,
    kind: FollowKind,
    *,
    clock: Clock,
    composed_by: str | None,
    text_md: str | None = None,
    title: str | None = None,
    send_at: datetime | None = None,
) -> Mailing:
    """The draft of a follow-up of ``original`` (checked with ``check`` first): a press
    release of its own with the original's lists and languages, the text as an item of
    its own (``written``), tied to the original by ``follows_id`` and ``follow_kind``."""
    now = clock.now()
    check(settings, store, original, kind, now=now, send_at=send_at)
    embargo = None
    start = send_at or now
    if kind in (FollowKind.CORRECTION, FollowKind.UPDATE) and original.under_embargo(start):
        embargo = original.embargo_at
    check_press_times(settings, send_at, embargo, clock)
    languages = original.languages or (settings.organisation.language,)
    language = languages[0]
    release = written.WrittenRelease(
        title=(title or "").strip() or original.subject,
        text_md=_text(settings, original, kind, text_md, language),
        language=language,
    )
    row = written.item_row(release, settings, now)  # ComposeError naming the field
    item_id = store_items.create_item(store, row)
    mailing = store_mailings.create_mailing(
        store,
        kind=MailingKind.PRESS,
        subject=row["title"],
        item_ids=[item_id],
        languages=languages,
        lists=original.lists,
        intro_md=render.follow_up_intro(settings, original, kind, language=language),
        preheader=" ".join(str(row["summary"]).split())[:150],
        send_at=send_at,
        embargo_at=embargo,
        clock=clock,
        composed_by=composed_by,
        follows_id=original.id,
        follow_kind=kind,
    )
    assert mailing is not None  # no period key: nothing to collide with
    return mailing


def check_edit(follow_up: Mailing, values: Mapping[str, Any]) -> None:
    """A follow-up's audience is the original's delivered copies: its lists and segment
    are not the editor's to change (``FollowUpRefused``, field ``lists`` or ``segment``)."""
    if "lists" in values and tuple(values["lists"]) != follow_up.lists:
        field = "lists"
    elif values.get("segment_where") is not None:
        field = "segment"
    else:
        return
    raise FollowUpRefused(
        f"mailing {follow_up.id} is a follow-up of press release {follow_up.follows_id}: it "
        f"goes to exactly the addresses that release was delivered to, so its {field} "
        f"cannot be changed",
        field=field,
        problem="audience",
        mailing_id=follow_up.id,
    )


def after_send(store: Store, mailing: Mailing, *, now: datetime) -> datetime | None:
    """A lift that has gone out to everyone moves the original's embargo to the instant
    it was sent, so the archive shows the release from then on; returns that instant
    when it moved the embargo now (None: nothing to do, or done before)."""
    if mailing.follow_kind != FollowKind.LIFT or mailing.follows_id is None:
        return None
    if mailing.status != S.SENT or mailing.sent_at is None:
        return None
    moved = store_followups.move_embargo(store, mailing.follows_id, to=mailing.sent_at, now=now)
    return mailing.sent_at if moved else None
