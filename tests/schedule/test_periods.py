"""Period keys and cron times in Europe/Berlin, across the daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pipeline.config import Settings
from pipeline.errors import ScheduleError
from pipeline.mailings import newsletter_key, period_key, settings_key
from pipeline.schedule.periods import (
    cron_trigger,
    fires_between,
    next_fire,
    period_start,
    previous_fire,
)

BERLIN = ZoneInfo("Europe/Berlin")


def local(instant: datetime) -> tuple[str, int]:
    """Wall clock time and UTC offset in hours."""
    moment = instant.astimezone(BERLIN)
    offset = moment.utcoffset()
    assert offset is not None
    return moment.strftime("%a %Y-%m-%d %H:%M"), int(offset.total_seconds() // 3600)


def test_thursday_14_stays_14_local_across_the_march_change() -> None:
    # DST starts on the last Sunday of March 2026: the 29th, 02:00 → 03:00.
    fires = fires_between(
        "0 14 * * thu",
        datetime(2026, 3, 20, tzinfo=UTC),
        datetime(2026, 4, 5, tzinfo=UTC),
        BERLIN,
    )
    assert [local(f) for f in fires] == [
        ("Thu 2026-03-26 14:00", 1),
        ("Thu 2026-04-02 14:00", 2),
    ]
    assert [f.hour for f in fires] == [13, 12]  # the UTC hour moves, the local one does not


def test_thursday_14_stays_14_local_across_the_october_change() -> None:
    # DST ends on the last Sunday of October 2026: the 25th, 03:00 → 02:00.
    fires = fires_between(
        "0 14 * * 4",  # cron numbering: 4 is Thursday
        datetime(2026, 10, 20, tzinfo=UTC),
        datetime(2026, 11, 2, tzinfo=UTC),
        BERLIN,
    )
    assert [local(f) for f in fires] == [
        ("Thu 2026-10-22 14:00", 2),
        ("Thu 2026-10-29 14:00", 1),
    ]
    assert fires[1] - fires[0] == timedelta(days=7, hours=1)


def test_next_fire_from_just_before_and_after_the_change() -> None:
    before = datetime(2026, 3, 29, 0, 59, tzinfo=UTC)  # 01:59 CET, a minute before the gap
    assert local(next_fire("0 10 * * fri", before, BERLIN)) == ("Fri 2026-04-03 10:00", 2)  # type: ignore[arg-type]
    assert local(next_fire("0 10 * * sun", before, BERLIN)) == ("Sun 2026-03-29 10:00", 2)  # type: ignore[arg-type]
    after = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # the second 02:30 of that night
    assert local(next_fire("0 10 * * sun", after, BERLIN)) == ("Sun 2026-10-25 10:00", 1)  # type: ignore[arg-type]


def test_a_time_in_the_spring_gap_fires_once() -> None:
    fires = fires_between(
        "30 2 * * *", datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC), BERLIN
    )
    assert len(fires) == 3  # 28th, 29th (02:30 does not exist: once, after the gap), 30th
    assert local(fires[1])[0].startswith("Sun 2026-03-29 03:")


def test_a_time_in_the_repeated_autumn_hour_fires_once() -> None:
    # APScheduler 3 alone fires 02:30 twice that night and then never moves on.
    fires = fires_between(
        "30 2 * * *",
        datetime(2026, 10, 24, tzinfo=UTC),
        datetime(2026, 10, 27, tzinfo=UTC),
        BERLIN,
    )
    assert [local(f) for f in fires] == [
        ("Sat 2026-10-24 02:30", 2),
        ("Sun 2026-10-25 02:30", 2),
        ("Mon 2026-10-26 02:30", 1),
    ]
    trigger = cron_trigger("30 2 * * *", BERLIN)
    second = trigger.get_next_fire_time(fires[1], fires[1] + timedelta(microseconds=1))
    assert second is not None and second.astimezone(UTC) == fires[2]


def test_previous_fire_is_the_last_due_time() -> None:
    at = datetime(2026, 11, 26, 9, 3, 4, tzinfo=UTC)  # Thursday 10:03 CET
    assert local(previous_fire("0 10 * * fri", at, BERLIN)) == ("Fri 2026-11-20 10:00", 1)  # type: ignore[arg-type]
    assert local(previous_fire("* * * * *", at, BERLIN)) == ("Thu 2026-11-26 10:03", 1)  # type: ignore[arg-type]
    assert previous_fire("0 10 1 1 *", datetime(2026, 1, 1, 8, 59, tzinfo=UTC), BERLIN) is not None
    exact = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert previous_fire("0 10 * * fri", exact, BERLIN) == exact


def test_cron_day_numbers_follow_cron_not_apscheduler() -> None:
    monday = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert local(next_fire("0 9 * * 0", monday, BERLIN))[0].startswith("Sun")  # type: ignore[arg-type]
    assert local(next_fire("0 9 * * 7", monday, BERLIN))[0].startswith("Sun")  # type: ignore[arg-type]
    assert local(next_fire("0 9 * * 5", monday, BERLIN))[0].startswith("Fri")  # type: ignore[arg-type]
    days = [
        local(f)[0][:3]
        for f in fires_between("0 9 * * 1-5", monday, monday + timedelta(days=7), BERLIN)
    ]
    assert days == ["Tue", "Wed", "Thu", "Fri", "Mon"]
    days = [
        local(f)[0][:3]
        for f in fires_between("0 9 * * fri-mon", monday, monday + timedelta(days=7), BERLIN)
    ]
    assert days == ["Fri", "Sat", "Sun", "Mon"]


@pytest.mark.parametrize("bad", ["0 14 * *", "0 25 * * thu", "0 14 * * xyz", "0 14 * * 8"])
def test_bad_cron_expressions_name_the_key(bad: str) -> None:
    with pytest.raises(ScheduleError, match=r"schedule\.send_newsletter"):
        cron_trigger(bad, BERLIN, key="schedule.send_newsletter")


def test_period_keys_in_local_time() -> None:
    # Sunday 23:30 in Berlin is still ISO week 48, though UTC says Sunday 22:30 too.
    sunday_late = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)  # Sunday 23:30 CET
    monday_early = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # Monday 00:30 CET
    assert period_key(sunday_late, BERLIN) == "2026-W48"
    assert period_key(monday_early, BERLIN) == "2026-W49"
    assert period_key(monday_early, BERLIN, "month") == "2026-11"
    assert period_key(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), BERLIN, "month") == "2026-12"
    # ISO years: 1 January 2027 is a Friday of week 53 of 2026
    assert period_key(datetime(2027, 1, 1, 12, tzinfo=UTC), BERLIN) == "2026-W53"
    assert period_start(monday_early, BERLIN) == monday_early - timedelta(minutes=30)


def test_the_newsletter_key_matches_compose(settings: Settings, settings_factory: object) -> None:
    for instant in (
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        datetime(2026, 11, 29, 23, 30, tzinfo=UTC),
    ):
        assert newsletter_key(instant, BERLIN) == settings_key(settings, instant)
        monthly = settings_factory(schedule={"period": "month"})  # type: ignore[operator]
        assert newsletter_key(instant, BERLIN, "month") == settings_key(monthly, instant)


def test_a_bad_cron_in_the_config_is_a_config_error_naming_the_key(
    settings_factory: object,
) -> None:
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match=r"schedule\.compose_newsletter: .*'0 14 \* \*'"):
        settings_factory(schedule={"compose_newsletter": "0 14 * *"})  # type: ignore[operator]
    with pytest.raises(ConfigError, match=r"schedule\.send_newsletter: .*higher than the maximum"):
        settings_factory(schedule={"send_newsletter": "0 25 * * fri"})  # type: ignore[operator]
