"""The dates a daily page prints: source lines (M/D/YY) and the page heading (DD-MM-YY)."""

from __future__ import annotations

from datetime import date

import pytest

from newsletter.content.lesson_dates import is_source_line, page_heading_date, source_line_date


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
