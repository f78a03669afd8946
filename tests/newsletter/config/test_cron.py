"""Crontab lines as the scheduler reads them: crontab's weekday numbers, clear errors, and daylight-saving
nights that neither skip nor double a run. Times come from the trigger itself, never from sleeping."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from newsletter.config.cron import crontab_trigger
from newsletter.service.scheduler import week_to_send
from newsletter.weeks import IsoWeek

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def fires(trigger: CronTrigger, start: datetime, end: datetime) -> list[datetime]:
    """Every fire time from `start` to `end`, found the way the scheduler finds them: after each run it
    asks the trigger for the next time, with the clock standing at the run it just made."""
    found = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire <= end:
        found.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    return found


@pytest.mark.parametrize(("day_field", "days"), [
    ("mon", ["mon"]),
    ("1", ["mon"]),
    ("0", ["sun"]),
    ("7", ["sun"]),
    ("1-5", ["mon", "tue", "wed", "thu", "fri"]),
    ("mon-fri", ["mon", "tue", "wed", "thu", "fri"]),
    ("5-7", ["fri", "sat", "sun"]),
    ("*/2", ["tue", "thu", "sat", "sun"]),
    ("0,3", ["wed", "sun"]),
    ("*", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
], ids=["name", "one-is-monday", "zero-is-sunday", "seven-is-sunday", "numeric-range", "named-range",
        "range-to-seven", "step-from-sunday", "list", "every-day"])
def test_days_of_the_week_count_from_sunday_as_in_crontab(day_field: str, days: list[str]) -> None:
    trigger = crontab_trigger(f"0 7 * * {day_field}", LONDON)
    week = fires(trigger, datetime(2026, 11, 23, tzinfo=LONDON), datetime(2026, 11, 29, 23, 59, tzinfo=LONDON))
    assert [f"{fire:%a}".lower() for fire in week] == days


@pytest.mark.parametrize(("expression", "problem"), [
    ("0 7 * * 8", "day of week '8': days are 0-7 (0 and 7 are Sunday) or mon..sun"),
    ("0 7 * * fri-mon", "day of week 'fri-mon' is not a range from an earlier day to a later one"),
    ("0 7 * mon", "a crontab line has 5 fields (minute hour day month weekday), got 4"),
], ids=["no-day-eight", "backwards-range", "four-fields"])
def test_a_bad_crontab_line_says_what_is_wrong(expression: str, problem: str) -> None:
    with pytest.raises(ValueError, match="^" + problem.replace("(", r"\(").replace(")", r"\)") + "$"):
        crontab_trigger(expression, LONDON)


# 2026: clocks go forward on 29 March (London) and 8 March (New York), back on 25 October and 1 November.
@pytest.mark.parametrize(("zone", "cron"), [
    (LONDON, "0 7 * * mon"),
    (LONDON, "30 1 * * sun"),   # 01:30 does not exist on 29 March and happens twice on 25 October
    (LONDON, "0 1 * * sun"),
    (NEW_YORK, "30 2 * * sun"),  # 02:30 does not exist on 8 March
    (NEW_YORK, "30 1 * * sun"),  # 01:30 happens twice on 1 November
], ids=["london-monday-morning", "london-in-the-changing-hour", "london-at-the-changing-hour",
        "new-york-skipped-hour", "new-york-repeated-hour"])
def test_daylight_saving_changes_neither_skip_nor_double_the_weekly_send(zone: ZoneInfo, cron: str) -> None:
    trigger = crontab_trigger(cron, zone)
    year = fires(trigger, datetime(2026, 1, 1, tzinfo=zone), datetime(2026, 12, 31, 23, 59, tzinfo=zone))
    weeks = [week_to_send(fire) for fire in year]
    assert len(year) == 52
    assert len(set(weeks)) == 52  # each run sends a different week...
    assert all(IsoWeek.of(b.monday - timedelta(days=7)) == a for a, b in itertools.pairwise(weeks))
    day = "mon" if "mon" in cron else "sun"
    assert {f"{fire:%a}".lower() for fire in year} == {day}  # ...and always on the right local day


def test_apscheduler_alone_would_send_twice_on_the_night_the_clocks_go_back() -> None:
    """Why CrontabTrigger exists: APScheduler 3's own cron trigger fires 01:30 in both passes."""
    start, end = datetime(2026, 10, 24, tzinfo=LONDON), datetime(2026, 10, 26, tzinfo=LONDON)
    plain = fires(CronTrigger.from_crontab("30 1 * * sun", timezone=LONDON), start, end)
    ours = fires(crontab_trigger("30 1 * * sun", LONDON), start, end)
    assert [fire.astimezone(UTC).hour for fire in plain] == [0, 1]
    assert [fire.astimezone(UTC) for fire in ours] == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]


def test_on_the_night_the_clocks_go_forward_a_skipped_time_runs_an_hour_later_once() -> None:
    [fire] = fires(crontab_trigger("30 1 * * sun", LONDON), datetime(2026, 3, 28, tzinfo=LONDON),
                   datetime(2026, 3, 30, tzinfo=LONDON))
    assert fire.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 02:30 BST
