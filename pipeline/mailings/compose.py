"""Compose: items → mailing drafts (newsletter digests and press releases).

    plan_newsletter (decides, no writes) ─▶ compose_newsletter (creates the draft)

A newsletter takes the eligible items of the backfill window that are not yet in a
newsletter that went out (or is approved to go out), newest first, up to
``compose.max_items``, ordered into sections by kind. Each period (ISO week, or month
with ``schedule.period = "month"``, in the organisation's time zone) holds at most one
newsletter: ``mailings.period_key`` is unique, so a second compose in the same week,
from the CLI or the scheduler or both at once, makes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.errors import ComposeError
from pipeline.mailings.lifecycle import COMMITTED
from pipeline.mailings.segment import choose_segment
from pipeline.mailings.times import check_times
from pipeline.models import Item, Mailing, MailingKind, MailingStatus
from pipeline.render import SECTION_ORDER, default_preheader
from pipeline.render import newsletter_subject as render_newsletter_subject
from pipeline.store import Store
from pipeline.store import mailings as store_mailings
from pipeline.store.items import get_item, list_items

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewsletterPlan:
    """What a compose would do now: the period, and either the items or why nothing."""

    period_key: str
    items: tuple[Item, ...]
    existing: Mailing | None  # the newsletter that already holds this period
    subject: str

    @property
    def reason(self) -> str:
        if self.existing is not None:
            return (
                f"this period ({self.period_key}) already has newsletter "
                f"{self.existing.id} ({self.existing.status})"
            )
        if not self.items:
            return "nothing new since the last newsletter"
        return ""


Period = Literal["iso_week", "month"]


def period_key(instant: datetime, tz: tzinfo, period: Period = "iso_week") -> str:
    """The period an instant falls in, in local time: ``2026-W48`` or ``2026-11``."""
    if instant.tzinfo is None:
        raise ValueError("period_key needs an aware instant")
    local = instant.astimezone(tz)
    if period == "month":
        return f"{local.year:04d}-{local.month:02d}"
    year, week, _ = local.isocalendar()
    return f"{year:04d}-W{week:02d}"


def newsletter_key(instant: datetime, tz: tzinfo, period: Period = "iso_week") -> str:
    """The value of ``mailings.period_key`` for the newsletter of that instant's period
    (``newsletter:2026-W25``): the one definition compose and the scheduler share."""
    return f"newsletter:{period_key(instant, tz, period)}"


def settings_key(settings: Settings, now: datetime) -> str:
    """This period's newsletter key under ``settings`` (zone and period length)."""
    return newsletter_key(now, settings.organisation.tz, settings.schedule.period)


def newsletter_subject(settings: Settings, items: Sequence[Item], now: datetime) -> str:
    """The subject in the first language of new mailings (``render.newsletter_subject``);
    a bad pattern is a ``ConfigError``."""
    return render_newsletter_subject(settings, items, now, language=_languages(settings)[0])


def _sort_key(item: Item) -> tuple[float, int]:
    when = item.published_at or item.updated_at
    return (-(when.timestamp() if when else 0.0), -item.id)


def select_items(
    candidates: Sequence[Item], *, used: set[int], since: datetime, limit: int
) -> list[Item]:
    """Newest first, not used, eligible, in the window; then grouped by section kind."""
    fresh = [
        i
        for i in candidates
        if i.eligible and i.id not in used and (i.published_at or i.updated_at or since) >= since
    ]
    fresh.sort(key=_sort_key)
    chosen = fresh[:limit]
    rank = {kind: n for n, kind in enumerate(SECTION_ORDER)}
    # stable: within a section the newest stays first
    return sorted(chosen, key=lambda i: rank.get(i.kind, len(rank)))


def plan_newsletter(settings: Settings, store: Store, *, clock: Clock) -> NewsletterPlan:
    """Decide what a compose now would contain (no writes)."""
    now = clock.now()
    key = settings_key(settings, now)
    existing = store_mailings.mailing_for_period(store, key)
    since = now - timedelta(days=settings.collect.backfill_days)
    items: list[Item] = []
    if existing is None:
        candidates = list_items(store, since=since, eligible_only=True, now=now)
        items = select_items(
            candidates,
            used=store_mailings.used_item_ids(store, statuses=COMMITTED),
            since=since,
            limit=settings.compose.max_items,
        )
    subject = newsletter_subject(settings, items, now) if items else ""
    return NewsletterPlan(period_key=key, items=tuple(items), existing=existing, subject=subject)


def _languages(settings: Settings) -> list[str]:
    return list(settings.compose.languages) or [settings.organisation.language]


def compose_newsletter(
    settings: Settings,
    store: Store,
    *,
    clock: Clock,
    composed_by: str | None = None,
    segment: str | None = None,
    where: str | None = None,
) -> Mailing | None:
    """Make this period's draft newsletter; None when nothing is new or it exists.
    ``segment`` or ``where`` narrows the lists as for a press release."""
    segment_name, segment_where = choose_segment(settings, store, segment, where)
    plan = plan_newsletter(settings, store, clock=clock)
    if plan.reason:
        log.info("compose newsletter skipped period=%s reason=%s", plan.period_key, plan.reason)
        return None
    mailing = store_mailings.create_mailing(
        store,
        kind=MailingKind.NEWSLETTER,
        subject=plan.subject,
        item_ids=[i.id for i in plan.items],
        languages=_languages(settings),
        lists=settings.compose.newsletter_lists,
        preheader=default_preheader(plan.items),
        period_key=plan.period_key,
        clock=clock,
        composed_by=composed_by,
        segment_name=segment_name,
        segment_where=segment_where,
    )
    if mailing is None:  # another process composed this period a moment ago
        log.info("compose newsletter lost the race period=%s", plan.period_key)
        return None
    log.info(
        "composed newsletter mailing=%s period=%s items=%d",
        mailing.id, plan.period_key, len(mailing.item_ids),
    )  # fmt: skip
    return mailing


def compose_press(
    settings: Settings,
    store: Store,
    item_id: int,
    *,
    clock: Clock,
    send_at: datetime | None = None,
    embargo: datetime | None = None,
    composed_by: str | None = None,
    segment: str | None = None,
    where: str | None = None,
) -> Mailing:
    """Make a press draft from one item: it goes out at ``send_at`` (None: once approved)
    and may be published from ``embargo`` on (None: at once); see ``times``. ``segment``
    (a name in ``[segments]``) or ``where`` (a condition) narrows the lists."""
    item = get_item(store, item_id)
    if item is None:
        raise ComposeError(f"item {item_id}: no such item")
    check_press_times(settings, send_at, embargo, clock)
    segment_name, segment_where = choose_segment(settings, store, segment, where)
    taken = press_mailing_in_use(store, item_id)
    if taken is not None:
        raise ComposeError(
            f"item {item_id} is already in press mailing {taken.id} ({taken.status}); "
            f"edit that one or cancel it first"
        )
    mailing = store_mailings.create_mailing(
        store,
        kind=MailingKind.PRESS,
        subject=item.title.strip(),
        item_ids=[item.id],
        languages=_languages(settings),
        lists=settings.compose.press_lists,
        preheader=" ".join(item.summary.split())[:150],
        send_at=send_at,
        embargo_at=embargo,
        clock=clock,
        composed_by=composed_by,
        segment_name=segment_name,
        segment_where=segment_where,
    )
    assert mailing is not None  # no period key: nothing to collide with
    log.info(
        "composed press mailing=%s item=%s send_at=%s embargo=%s",
        mailing.id, item_id, send_at, embargo,
    )  # fmt: skip
    return mailing


def check_press_times(
    settings: Settings, send_at: datetime | None, embargo: datetime | None, clock: Clock
) -> None:
    """``ComposeError`` unless a new press release's send time and embargo fit (``times``)."""
    check_times(send_at=send_at, embargo_at=embargo, now=clock.now(), tz=settings.organisation.tz)


def press_mailing_in_use(store: Store, item_id: int) -> Mailing | None:
    for mailing in store_mailings.press_mailings_for_item(store, item_id):
        if mailing.status != MailingStatus.CANCELLED:
            return mailing
    return None
