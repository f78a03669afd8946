"""Site chrome: the lines a rule names, and the lines a site repeats."""

from __future__ import annotations

import pytest

from newsletter.content.chrome import Repeats, chrome_rule, repeats_kind, series

WIDGETS = [
    ("Share this:", "sharing widget"),
    ("Like this: Like Loading...", "sharing widget"),
    ("Facebook | Twitter | Email | Print", "sharing widget"),
    ("Related Material: Why We Sit in a Circle", "related links"),
    ("Leave a comment", "comments"),
    ("3 Comments", "comments"),
    ("← Previous post", "previous/next links"),
    ("Copyright © 2026 Lantern Hill Study Circle. All rights reserved.", "copyright line"),
    ("Posted on December 3, 2026 in Attention, Friends", "post meta"),
    ("Study Newsletter", "newsletter box"),
    ("Privacy: Your email address will never be rented, traded or sold.", "newsletter box"),
]


@pytest.mark.parametrize(("line", "rule"), WIDGETS, ids=[w[1] + ":" + w[0][:20] for w in WIDGETS])
def test_a_widget_line_is_named_chrome_by_its_rule(line: str, rule: str) -> None:
    assert chrome_rule(line) == rule


@pytest.mark.parametrize(
    "prose",
    ["Share this thought with a friend, and see whether it survives the telling in your own words.",
     "Comments from the friends are welcome at the table, but only after the reading ends.",
     "Privacy is not the same as hiding. " * 8],
    ids=["share-in-a-sentence", "comments-in-a-sentence", "long-paragraph"],
)
def test_prose_that_starts_like_a_widget_is_not_chrome(prose: str) -> None:
    assert chrome_rule(prose) == ""


def test_a_kind_of_three_words_has_a_series_and_the_daily_page_has_none() -> None:
    assert series("Daily Study Bites") == "daily study"
    assert series("The Daily Page") == ""


def test_the_footer_names_the_page_kind_again_in_the_plural() -> None:
    assert repeats_kind("Daily Pages", "The Daily Page")
    assert repeats_kind("Daily Study Bites", "Daily Study Bites")
    assert not repeats_kind("Daily Study Tip", "Daily Study Bites")
    assert not repeats_kind("Daily Pages", "")


def test_a_line_on_two_pages_is_repeated_and_one_twice_on_one_page_is_not() -> None:
    repeats = Repeats()
    repeats.learn("a.txt", ["Join our reading room", "A line once"])
    assert not repeats.repeated("Join our reading room")
    repeats.learn("b.txt", ["join  our reading room"])
    repeats.learn("c.txt", ["A shared sentence.", "A shared sentence."])
    repeats.learn("a.txt", ["A line once"])  # the same page read again is still one page
    assert repeats.repeated("Join our reading room")
    assert repeats.pages("Join our reading room") == 2
    assert not repeats.repeated("A shared sentence.")
    assert not repeats.repeated("A line once")
