"""ISO weeks: parsing, bounds, and which week is the last complete one."""

from __future__ import annotations

from datetime import date

import pytest

from newsletter.errors import WeekError
from newsletter.weeks import IsoWeek


@pytest.mark.parametrize(
    ("text", "monday", "sunday"),
    [("2010-W52", date(2010, 12, 27), date(2011, 1, 2)),
     ("2026-W47", date(2026, 11, 16), date(2026, 11, 22)),
     ("2020-W53", date(2020, 12, 28), date(2021, 1, 3)),
     ("2026w01", date(2025, 12, 29), date(2026, 1, 4))],
    ids=["across-new-year", "plain", "week-53", "lowercase-no-dash"],
)
def test_a_week_spans_monday_to_sunday(text: str, monday: date, sunday: date) -> None:
    week = IsoWeek.parse(text)
    assert (week.monday, week.sunday) == (monday, sunday)
    assert monday in week
    assert sunday in week
    assert date.fromordinal(monday.toordinal() - 1) not in week


@pytest.mark.parametrize("text", ["2010-52", "W52", "2010-W5", "2010-W00", "2021-W53", "next week"],
                         ids=["no-W", "no-year", "one-digit", "week-0", "no-week-53", "words"])
def test_a_malformed_week_says_how_to_write_one(text: str) -> None:
    with pytest.raises(WeekError, match=r"2010-W52|has no ISO week"):
        IsoWeek.parse(text)


@pytest.mark.parametrize(
    ("today", "expected"),
    [(date(2026, 11, 25), "2026-W47"),   # a Wednesday
     (date(2026, 11, 23), "2026-W47"),   # the Monday after: last week just ended
     (date(2026, 11, 22), "2026-W46"),   # a Sunday: its own week is not over
     (date(2027, 1, 1), "2026-W52")],
    ids=["midweek", "monday", "sunday", "new-year"],
)
def test_the_last_complete_week_has_ended_before_today(today: date, expected: str) -> None:
    assert str(IsoWeek.last_complete(today)) == expected


def test_weeks_print_as_they_are_written_and_sort_in_time() -> None:
    assert str(IsoWeek(2026, 3)) == "2026-W03"
    assert IsoWeek(2025, 52) < IsoWeek(2026, 1)
