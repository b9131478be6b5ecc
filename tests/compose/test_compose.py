"""Composing newsletters and press releases from stored items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import ComposeError, ConfigError
from pipeline.mailings.compose import compose_newsletter, compose_press, plan_newsletter
from pipeline.mailings.compose import settings_key as period_key
from pipeline.models import MailingKind, MailingStatus
from pipeline.store import Store
from pipeline.store import mailings as sm
from tests.support import mailings as mailing_ops
from tests.support.mail_items import add_item, add_items


def test_newsletter_takes_new_items_in_sections_newest_first(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    now = clock.now()
    ids = add_items(store, now, 6, kinds=("article", "event_report", "press_release"))
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    assert mailing.kind == MailingKind.NEWSLETTER
    assert mailing.status == MailingStatus.DRAFT
    assert mailing.lists == ("members",)
    assert mailing.languages == ("de",)
    # articles (ids[0], ids[3]) then event reports then press releases, newest first each
    assert mailing.item_ids == (ids[0], ids[3], ids[1], ids[4], ids[2], ids[5])
    assert mailing.subject == "Netzwerk Junge Bürgermeister*innen · Newsletter KW 25/2026"
    assert mailing.period_key == "newsletter:2026-W25"
    assert mailing.preheader.startswith("Netzwerktreffen der jungen Bürgermeister")


def test_newsletter_leaves_out_old_ineligible_and_future_items(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    now = clock.now()
    fresh = add_item(store, title="Frisch aus dem Rathaus", published_at=now - timedelta(days=2))
    add_item(store, title="Zu alt", published_at=now - timedelta(days=15))
    add_item(store, title="Aus dem Archiv", published_at=now - timedelta(days=1), eligible=False)
    add_item(store, title="Aus der Zukunft", published_at=now + timedelta(days=3))
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    assert mailing.item_ids == (fresh,)


def test_newsletter_caps_at_max_items_keeping_the_newest(
    settings_factory: object, clock: FakeClock
) -> None:
    settings = settings_factory(compose={"max_items": 3})  # type: ignore[operator]
    store = Store.open(settings.database_url())
    ids = add_items(store, clock.now(), 8)
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    assert mailing.item_ids == tuple(ids[:3])
    store.close()


def test_second_compose_in_the_same_week_makes_nothing_and_says_why(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    add_items(store, clock.now(), 3)
    first = compose_newsletter(settings, store, clock=clock)
    assert first is not None
    clock.advance(days=1)
    add_item(store, title="Noch ein Artikel", published_at=clock.now() - timedelta(hours=1))
    assert compose_newsletter(settings, store, clock=clock) is None
    plan = plan_newsletter(settings, store, clock=clock)
    assert plan.existing is not None and plan.existing.id == first.id
    assert "already has newsletter" in plan.reason
    assert len(sm.list_mailings(store)) == 1


def test_items_of_a_sent_newsletter_are_not_used_again(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    old = add_items(store, clock.now(), 2)
    first = compose_newsletter(settings, store, clock=clock)
    assert first is not None
    mailing_ops.approve(store, first.id, clock=clock, by="redaktion", settings=settings)
    mailing_ops.set_status(store, first.id, MailingStatus.SENDING, clock=clock)
    mailing_ops.set_status(store, first.id, MailingStatus.SENT, clock=clock)
    clock.advance(days=7)
    assert compose_newsletter(settings, store, clock=clock) is None
    assert plan_newsletter(settings, store, clock=clock).reason == (
        "nothing new since the last newsletter"
    )
    new = add_item(store, title="Neu diese Woche", published_at=clock.now() - timedelta(hours=2))
    second = compose_newsletter(settings, store, clock=clock)
    assert second is not None
    assert second.item_ids == (new,)
    assert not set(old) & set(second.item_ids)


def test_items_of_an_unsent_draft_from_last_week_come_again(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    ids = add_items(store, clock.now(), 2)
    assert compose_newsletter(settings, store, clock=clock) is not None
    clock.advance(days=7)
    again = compose_newsletter(settings, store, clock=clock)
    assert again is not None and set(again.item_ids) == set(ids)


def test_cancelling_frees_the_period(settings: Settings, store: Store, clock: FakeClock) -> None:
    add_items(store, clock.now(), 2)
    first = compose_newsletter(settings, store, clock=clock)
    assert first is not None
    mailing_ops.cancel(store, first.id, clock=clock)
    second = compose_newsletter(settings, store, clock=clock)
    assert second is not None and second.id != first.id


def test_period_key_uses_the_organisations_time_zone(settings: Settings) -> None:
    # Sunday 23:30 UTC is already Monday in Berlin: the next ISO week.
    sunday_night = datetime(2026, 6, 21, 23, 30, tzinfo=UTC)
    assert period_key(settings, sunday_night) == "newsletter:2026-W26"
    assert period_key(settings, sunday_night - timedelta(hours=2)) == "newsletter:2026-W25"
    # ISO years: 1 January 2027 is in week 53 of 2026
    assert period_key(settings, datetime(2027, 1, 1, 12, tzinfo=UTC)) == "newsletter:2026-W53"


def test_period_by_month(settings_factory: object) -> None:
    settings = settings_factory(schedule={"period": "month"})  # type: ignore[operator]
    assert period_key(settings, datetime(2026, 6, 30, 22, 30, tzinfo=UTC)) == "newsletter:2026-07"


def test_subject_pattern_fields(settings_factory: object, clock: FakeClock) -> None:
    settings = settings_factory(  # type: ignore[operator]
        compose={"subject_pattern": "{organisation}: {lead_title} ({date}, KW {week}/{year})"}
    )
    store = Store.open(settings.database_url())
    add_item(store, title="Wärmeplanung „jetzt“", published_at=clock.now() - timedelta(hours=1))
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    assert mailing.subject == (
        "Netzwerk Junge Bürgermeister*innen: Wärmeplanung „jetzt“ (19. Juni 2026, KW 25/2026)"
    )
    store.close()


def test_unknown_subject_placeholder_is_a_config_error(settings_factory: object) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_factory(compose={"subject_pattern": "KW {woche}"})  # type: ignore[operator]
    assert "compose.subject_pattern: unknown placeholder {woche}" in str(caught.value)
    assert "{lead_title}" in str(caught.value)
    with pytest.raises(ConfigError, match=r"compose\.subject_pattern"):
        settings_factory(compose={"subject_pattern": "KW {week"})  # type: ignore[operator]


def test_nothing_new_makes_nothing(settings: Settings, store: Store, clock: FakeClock) -> None:
    assert compose_newsletter(settings, store, clock=clock) is None
    assert sm.list_mailings(store) == []


def test_a_lost_race_for_the_period_returns_none(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    ids = add_items(store, clock.now(), 1)
    kwargs = {
        "kind": MailingKind.NEWSLETTER,
        "subject": "x",
        "item_ids": ids,
        "languages": ["de"],
        "lists": ["members"],
        "period_key": "newsletter:2026-W25",
        "clock": clock,
    }
    assert sm.create_mailing(store, **kwargs) is not None  # type: ignore[arg-type]
    assert sm.create_mailing(store, **kwargs) is None  # type: ignore[arg-type]


def test_press_draft_from_one_item_with_embargo(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    item = add_item(
        store,
        title="Junge Bürgermeister*innen fordern Fördermittel ohne Antragsflut",
        kind="press_release",
        published_at=clock.now() - timedelta(hours=3),
    )
    embargo = clock.now() + timedelta(days=2)
    mailing = compose_press(settings, store, item, clock=clock, embargo=embargo)
    assert mailing.kind == MailingKind.PRESS
    assert mailing.item_ids == (item,)
    assert mailing.lists == ("press",)
    assert mailing.embargo_at == embargo and mailing.send_at is None
    assert mailing.period_key is None
    assert mailing.subject == "Junge Bürgermeister*innen fordern Fördermittel ohne Antragsflut"


def test_press_refuses_unknown_items_past_embargos_and_duplicates(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    with pytest.raises(ComposeError, match="item 999: no such item"):
        compose_press(settings, store, 999, clock=clock)
    item = add_item(store, title="Presse", kind="press_release", published_at=clock.now())
    with pytest.raises(ComposeError, match="in the past"):
        compose_press(settings, store, item, clock=clock, embargo=clock.now() - timedelta(1))
    first = compose_press(settings, store, item, clock=clock)
    with pytest.raises(ComposeError, match=f"already in press mailing {first.id}"):
        compose_press(settings, store, item, clock=clock)
    mailing_ops.cancel(store, first.id, clock=clock)
    assert compose_press(settings, store, item, clock=clock).id != first.id
