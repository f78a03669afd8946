"""The dates a daily page prints: source lines (M/D/YY) and the page heading (DD-MM-YY)."""

from __future__ import annotations

from datetime import date

import pytest

from newsletter.content.lesson_dates import (
    continues_source_line,
    is_source_line,
    page_heading_date,
    page_kind,
    source_line_date,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [("From the 1st part of the Daily Study Lesson 12/28/10, Letters", date(2010, 12, 28)),
     ("  From the 2nd part of the Daily Lesson 1/5/26, Notes  ", date(2026, 1, 5)),
     ("From the Daily Lesson 11/16/2026", date(2026, 11, 16)),
     ("From the 3rd part of the Daily Lesson 12/31/99, Essays", date(1999, 12, 31))],
    ids=["seed-shape", "padded-one-digit", "four-digit-year", "last-century"],
)
def test_a_source_line_gives_the_lesson_date_month_first(line: str, expected: date) -> None:
    assert source_line_date(line) == expected
    assert is_source_line(line)


@pytest.mark.parametrize(
    "line",
    ["From there we went home.", "Question: from the 1st part 12/28/10?", "Lesson 12/28/10"],
    ids=["prose", "not-at-start", "no-from"],
)
def test_other_lines_are_not_source_lines(line: str) -> None:
    assert source_line_date(line) is None
    assert not is_source_line(line)


def test_a_source_line_with_an_impossible_date_still_closes_an_excerpt_but_has_no_date() -> None:
    assert is_source_line("From the lesson 13/45/10, Letters")
    assert source_line_date("From the lesson 13/45/10, Letters") is None


def test_the_page_heading_gives_the_date_day_first() -> None:
    assert page_heading_date("The Daily Page - 28-12-10") == date(2010, 12, 28)
    assert page_heading_date("The Daily Page – 16-11-26") == date(2026, 11, 16)
    assert page_heading_date("The Daily Page - 31-02-10") is None
    assert page_heading_date("The Daily Page is a collection of excerpts") is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [("-from the 1st part of the Daily Study Lesson 8/04/10 (minutes 38-50)", date(2010, 8, 4)),
     ("– from the 2nd part of the daily study lesson 12/1/10 (minutes 7-38)", date(2010, 12, 1))],
    ids=["dash-lower-case-minutes", "en-dash-spaced"],
)
def test_a_short_form_source_line_with_a_leading_dash_gives_its_date(line: str, expected: date) -> None:
    assert source_line_date(line) == expected
    assert is_source_line(line)


def test_a_short_form_source_line_without_a_date_closes_an_excerpt_but_gives_no_date() -> None:
    line = "-from the 1st part of the daily study lesson (minutes 12-15)"
    assert is_source_line(line)
    assert source_line_date(line) is None


def test_prose_about_a_lesson_is_not_an_undated_source_line() -> None:
    assert not is_source_line("From the first part of the lesson we learned to listen. Then we ate.")


def test_a_continuation_line_carries_the_rest_of_a_source_line() -> None:
    assert continues_source_line("  and from the 2nd part (minutes 7-38)")
    assert not continues_source_line("and from then on we met every day, rain or shine, for years.")


@pytest.mark.parametrize(
    ("heading", "kind", "day"),
    [("The Daily Page - 28-12-10", "The Daily Page", date(2010, 12, 28)),
     ("Daily Study Bites - 04-08-10", "Daily Study Bites", date(2010, 8, 4))],
    ids=["daily-page", "bites"],
)
def test_a_page_heading_names_the_page_kind_and_its_date(heading: str, kind: str, day: date) -> None:
    assert (page_kind(heading), page_heading_date(heading)) == (kind, day)


def test_a_line_that_is_no_page_heading_has_no_kind() -> None:
    assert page_kind("The Daily Page is a collection of excerpts") == ""
    assert page_kind("The Daily Page - 31-02-10") == ""
