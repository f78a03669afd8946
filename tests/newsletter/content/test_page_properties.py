"""Property: chrome blocks from a pool of widget texts, put before, between and after a page's excerpts,
never reach an excerpt and never change the excerpts found."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.content.chrome import Repeats
from newsletter.content.excerpt import Excerpt
from newsletter.content.text_pages import read_text_page, text_blocks

# Widget texts as blogs and the daily pages print them; each is named by a chrome rule.
WIDGETS = [
    "Share this:",
    "Like this: Like Loading...",
    "Facebook | Twitter | Email | Print",
    "Related Material: The Empty Chair",
    "Leave a comment",
    "3 Comments",
    "← Previous post",
    "Next post: A Lamp for the Table →",
    "Copyright © 2026 Lantern Hill Study Circle. All rights reserved.",
    "Posted on November 18, 2026 in Friends",
    "Tags: attention, friends",
    "Study Newsletter",
    "Subscribe now!",
    "Free weekly updates, articles and videos.",
    "Enter your email below",
    "Privacy: Your email address will never be rented, traded or sold.",
    "Continue reading →",
]
# Not named by any rule: chrome only because another page of the site prints it too.
UNKNOWN = "The reading room is open on Tuesdays from six."
TITLES = ["Keep a Notebook", "Why Sit Together?", "The Quiet After the Lesson", "A Chair for the Latecomer",
          "Listening Twice", "What the Table Remembers"]
SENTENCES = [
    "Write one line after every lesson, and read the lines again at the end of the month.",
    "Question: Why can't I study alone?",
    "Answer: You can, but you will only ever hear yourself.",
    "A friend who asks the obvious question does the whole table a favour.",
    "Nobody at the table remembers who washed the cups, and that is the point.",
    "The second reading finds what the first one hurried past.",
]
FRAME_TOP = ("Daily Study Lesson\n\n{heading}\n\nShort pieces from the daily lesson, gathered by volunteers of "
             "the circle\n\n")
FRAME_BOTTOM = "{kind}s\n\nStudy Newsletter\n\nPrivacy: Your email address will never be rented, traded or sold.\n"


@st.composite
def pages(draw: st.DrawFn) -> tuple[list[list[str]], str, str]:
    """A page's excerpts as lists of blocks (title, paragraphs, maybe a source line), its top and bottom."""
    bites = draw(st.booleans())
    titles = draw(st.lists(st.sampled_from(TITLES), min_size=1, max_size=4, unique=True))
    excerpts = []
    for n, title in enumerate(titles, start=1):
        body = draw(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=3, unique=True))
        body = [f"{sentence[:-1]} ({title}){sentence[-1]}" for sentence in body]  # no two excerpts share one
        if bites:
            section = ["Daily Study Tip", "Practical advice from the lesson, one small task at a time ..."]
            source = draw(st.sampled_from([
                [], [f"-from the {n}st part of the Daily Study Lesson 11/18/26 (minutes 3-9)"],
                [f"-from the {n}st part of the daily study lesson (minutes 12-15)"]]))
            excerpts.append([*section, title, *body, *source])
        else:
            excerpts.append([title, *body, f"From the {n}st part of the Daily Study Lesson 11/18/26, Letters"])
    kind = "Daily Study Bite" if bites else "Daily Page"
    heading = "Daily Study Bites - 18-11-26" if bites else "The Daily Page - 18-11-26"
    return excerpts, FRAME_TOP.format(heading=heading), FRAME_BOTTOM.format(kind=kind)


def _page(excerpts: list[list[str]], top: str, bottom: str, chrome: dict[int, list[str]]) -> str:
    """The page with `chrome[i]` put before excerpt i (and `chrome[len]` after the last one)."""
    blocks = [*chrome.get(0, [])]
    for i, excerpt in enumerate(excerpts, start=1):
        blocks += [*excerpt, *chrome.get(i, [])]
    return top + "\n\n".join(blocks) + "\n\n" + bottom


def _fields(excerpt: Excerpt) -> list[str]:
    return [excerpt.title, excerpt.source, *(p.plain() for p in excerpt.paragraphs)]


@settings(max_examples=150, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow])
@given(page=pages(), data=st.data())
def test_widgets_anywhere_around_the_excerpts_never_reach_one_nor_change_what_is_found(
        page: tuple[list[list[str]], str, str], data: st.DataObject) -> None:
    excerpts, top, bottom = page
    slots = st.integers(0, len(excerpts))
    chrome: dict[int, list[str]] = {}
    for widget in data.draw(st.lists(st.sampled_from(WIDGETS), max_size=6), label="widgets"):
        chrome.setdefault(data.draw(slots, label="slot"), []).append(widget)
    if data.draw(st.booleans(), label="unknown widget"):
        chrome.setdefault(data.draw(slots, label="unknown slot"), []).append(UNKNOWN)
    site = Repeats()
    site.learn("other-page.txt", [UNKNOWN, "Daily Study Lesson"])
    clean_page, dirty_page = _page(excerpts, top, bottom, {}), _page(excerpts, top, bottom, chrome)
    site.learn("page.txt", text_blocks(dirty_page))
    clean = read_text_page(clean_page, "page.txt")
    dirty = read_text_page(dirty_page, "page.txt", site)
    assert dirty.found == clean.found
    for excerpt in dirty.excerpts:
        for field in _fields(excerpt):
            assert not [w for w in [*WIDGETS, UNKNOWN] if w in field], field
