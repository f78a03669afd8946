"""The preheader: one readable sentence naming the issue's first excerpts, never longer than an inbox shows."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.content.excerpt import Excerpt
from newsletter.issues.preheader import MAX_CHARACTERS, preheader
from tests.newsletter.conftest import SAMPLE_WEEK


def titled(*titles: str) -> list[Excerpt]:
    return [Excerpt(title, date(2026, 11, 16 + i % 7), "", (), "sample.txt") for i, title in enumerate(titles)]


@pytest.mark.parametrize(
    ("titles", "expected"),
    [
        (["The Lamp in the Window"],
         "This week: “The Lamp in the Window”, from the lesson of Monday, 16 November 2026."),
        (["The Lamp in the Window", "Two Kinds of Effort"],
         "This week: “The Lamp in the Window” and “Two Kinds of Effort”, from the lessons of "
         "16–22 November 2026."),
        (["The Lamp in the Window", "Two Kinds of Effort", "The Order of the Words"],
         "This week: “The Lamp in the Window”, “Two Kinds of Effort” and one more, from the lessons of "
         "16–22 November 2026."),
        (["The Lamp in the Window", "Two Kinds of Effort", "Three", "Four", "Five"],
         "This week: “The Lamp in the Window”, “Two Kinds of Effort” and 3 more, from the lessons of "
         "16–22 November 2026."),
    ],
    ids=["one", "two", "three", "five"],
)
def test_the_preheader_names_the_first_excerpts_and_counts_the_rest(titles: list[str], expected: str) -> None:
    assert preheader(SAMPLE_WEEK, titled(*titles)) == expected


def test_a_second_title_that_does_not_fit_is_counted_instead() -> None:
    long_second = "A Very Long Second Title " * 4
    assert preheader(SAMPLE_WEEK, titled("The Lamp in the Window", long_second, "Three")) == (
        "This week: “The Lamp in the Window” and 2 more, from the lessons of 16–22 November 2026."
    )


def test_a_first_title_too_long_for_the_inbox_is_shortened_at_a_word() -> None:
    line = preheader(SAMPLE_WEEK, titled("Lamp " * 60, "Two Kinds of Effort"))
    assert len(line) <= MAX_CHARACTERS
    assert line.startswith("This week: “Lamp Lamp")
    assert "Lamp…” and one more, from the lessons of 16–22 November 2026." in line


def test_an_issue_without_excerpts_has_no_preheader() -> None:
    with pytest.raises(ValueError, match="at least one excerpt"):
        preheader(SAMPLE_WEEK, [])


@given(st.lists(st.text(min_size=1, max_size=300).filter(lambda t: t.strip()), min_size=1, max_size=12))
def test_any_titles_give_one_line_that_fits_the_inbox_and_starts_with_the_first(titles: list[str]) -> None:
    excerpts = titled(*titles)
    line = preheader(SAMPLE_WEEK, excerpts)
    first = " ".join(excerpts[0].title.split())
    assert len(line) <= MAX_CHARACTERS
    assert line == " ".join(line.split())
    assert line.startswith("This week: “")
    shown = line.removeprefix("This week: “").split("”")[0]
    assert first.startswith(shown.removesuffix("…").rstrip(" ,;:.")) or first == shown
    assert line.endswith(".")
