"""Dates, week ranges and directions in the readers' language, from Babel's data."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.translations import date_range, direction, long_date

MONDAY, SUNDAY = date(2026, 11, 16), date(2026, 11, 22)


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (date(2026, 11, 16), date(2026, 11, 22), "16–22 November 2026"),
        (date(2026, 11, 30), date(2026, 12, 6), "30 November\u2009–\u20096 December 2026"),
        (date(2025, 12, 29), date(2026, 1, 4), "29 December 2025\u2009–\u20094 January 2026"),
    ],
    ids=["same-month", "two-months", "two-years"],
)
def test_an_english_week_is_written_as_a_date_range_with_the_month_in_full(first: date, last: date,
                                                                           expected: str) -> None:
    assert date_range(first, last, "en") == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("he", "16–22 בנובמבר 2026"),
        ("ru", "16—22 ноября 2026\u202fг."),
        ("en-US", "November 16\u2009–\u200922, 2026"),
    ],
)
def test_a_week_is_written_the_way_its_language_writes_it(language: str, expected: str) -> None:
    assert date_range(MONDAY, SUNDAY, language) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Monday, 16 November 2026"), ("he", "יום שני, 16 בנובמבר 2026"),
     ("ru", "понедельник, 16 ноября 2026\u202fг.")],
)
def test_a_lesson_day_is_written_with_its_weekday_in_the_readers_language(language: str, expected: str) -> None:
    assert long_date(MONDAY, language) == expected


@pytest.mark.parametrize(("language", "expected"),
                         [("he", "rtl"), ("ar", "rtl"), ("fa", "rtl"), ("yi", "rtl"), ("en", "ltr"), ("ru", "ltr")])
def test_hebrew_arabic_persian_and_yiddish_read_right_to_left(language: str, expected: str) -> None:
    assert direction(language) == expected


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)), st.integers(0, 400),
       st.sampled_from(["en", "he", "ru", "ar", "fa", "yi", "en-US", "pt-BR", "ja"]))
def test_any_range_in_any_language_names_both_days(first: date, days: int, language: str) -> None:
    last = date.fromordinal(first.toordinal() + days)
    written = date_range(first, last, language)
    assert written
    assert str(last.year) in written
