from __future__ import annotations

from datetime import date

import pytest

from newsletter.content.chrome import Repeats
from newsletter.content.excerpt import Excerpt, ParagraphKind
from newsletter.content.reading import Cause, DateFrom, Dropped
from newsletter.content.text_pages import parse_text_page, read_text_page, text_blocks
from newsletter.errors import SourceError
from tests.conftest import REPO

SEED = REPO.parent / "shared" / "seeds" / "000_4f178ffae56ea031.txt"

HEADER = "Daily Study Notes\n\n\nThe Daily Page - 14-03-11\n\n"
INTRO = "The Daily Page is a collection of excerpts taken from the daily lesson with the teacher\n\n"
FOOTER = """
Daily Pages


Weekly Newsletter

One short email every week, nothing else.

Type your address here

Privacy: Your email address will never be rented, traded or sold.

Our Mission

We are a small non-profit group that shares these lessons freely and is funded by nobody else.
"""
CHROME = [
    "Daily Study Notes",
    "The Daily Page - 14-03-11",
    "The Daily Page is a collection",
    "Daily Pages",
    "Weekly Newsletter",
    "One short email every week, nothing else.",
    "Type your address here",
    "Privacy:",
    "Our Mission",
    "We are a small non-profit group",
]

RIVER = """Why Does the River Bend?


“A river that meets a stone does not argue with it; it finds the way around.” (Old saying)

Question: If every path bends, how do I know I am still moving forward?

Teacher's Answer: You know by what you want. When the wish stays, the bends are part of the road.

A person who walks alone counts the turns. One who walks with friends counts the friends.


\u00a0From the 2nd part of the Daily Lesson 3/13/11, Notes on Patience

"""
PATIENCE = """Patience: The Quiet Engine

The first effort is loud and the tenth is quiet. Only the quiet one
lasts, because it no longer
waits for praise.

So the work is to keep going when nobody is watching.

   From the 3rd part of the Daily Lesson 3/14/11, Letters

"""
PAGE = HEADER + INTRO + RIVER + PATIENCE + FOOTER


def parse(text: str = PAGE, origin: str = "river.txt") -> list[Excerpt]:
    return parse_text_page(text, origin)


def test_parser_finds_each_excerpt_by_title() -> None:
    titles = [excerpt.title for excerpt in parse()]
    assert titles == ["Why Does the River Bend?", "Patience: The Quiet Engine"]


def test_lesson_date_comes_from_the_source_line_not_the_heading() -> None:
    assert [excerpt.lesson_date for excerpt in parse()] == [date(2011, 3, 13), date(2011, 3, 14)]


def test_source_line_is_kept_without_its_leading_spaces() -> None:
    assert [excerpt.source for excerpt in parse()] == [
        "From the 2nd part of the Daily Lesson 3/13/11, Notes on Patience",
        "From the 3rd part of the Daily Lesson 3/14/11, Letters",
    ]


def test_every_excerpt_records_its_origin() -> None:
    assert [excerpt.origin for excerpt in parse(origin="pages/0314.txt")] == ["pages/0314.txt"] * 2


def test_question_and_answer_paragraphs_become_structure() -> None:
    river, patience = parse()
    assert [(p.kind, p.label) for p in river.paragraphs] == [
        (ParagraphKind.TEXT, ""),
        (ParagraphKind.QUESTION, "Question"),
        (ParagraphKind.ANSWER, "Teacher's Answer"),
        (ParagraphKind.TEXT, ""),
    ]
    assert river.paragraphs[2].text == (
        "You know by what you want. When the wish stays, the bends are part of the road."
    )
    assert [p.kind for p in patience.paragraphs] == [ParagraphKind.TEXT, ParagraphKind.TEXT]


def test_typographic_quotes_are_kept() -> None:
    lead = parse()[0].paragraphs[0]
    assert lead.text == (
        "“A river that meets a stone does not argue with it; it finds the way around.” (Old saying)"
    )


def test_hard_wrapped_paragraph_is_joined_into_one() -> None:
    assert parse()[1].paragraphs[0].text == (
        "The first effort is loud and the tenth is quiet. "
        "Only the quiet one lasts, because it no longer waits for praise."
    )


@pytest.mark.parametrize("chrome", CHROME, ids=CHROME)
def test_parser_drops_the_site_chrome(chrome: str) -> None:
    for excerpt in parse():
        assert chrome not in excerpt.title
        assert chrome not in excerpt.text
        assert chrome not in excerpt.source


@pytest.mark.parametrize(
    "variant",
    [
        PAGE.replace("\n", "\r\n"),
        PAGE.replace("\n", "\r"),
        "\ufeff" + PAGE,
        "\ufeff" + PAGE.replace("\n", "\r\n"),
    ],
    ids=["crlf", "cr", "bom", "bom-crlf"],
)
def test_line_endings_and_bom_read_like_plain_lf(variant: str) -> None:
    expected = parse()
    got = parse(variant)
    assert [e.content_hash for e in got] == [e.content_hash for e in expected]
    assert got == expected


def test_byte_order_mark_does_not_stick_to_the_first_line() -> None:
    heading_first = "\ufeffThe Daily Page - 14-03-11\n\n" + RIVER.replace("3/13/11", "13/45/11")
    assert parse(heading_first)[0].lesson_date == date(2011, 3, 14)
    assert parse("\ufeff" + RIVER)[0].title == "Why Does the River Bend?"


def test_source_line_right_under_the_last_paragraph_still_closes_the_excerpt() -> None:
    page = HEADER + INTRO + RIVER.replace("friends.\n\n\n", "friends.\n") + PATIENCE + FOOTER
    river, patience = parse(page)
    assert river.paragraphs[-1].text == (
        "A person who walks alone counts the turns. One who walks with friends counts the friends."
    )
    assert river.source == "From the 2nd part of the Daily Lesson 3/13/11, Notes on Patience"
    assert patience.title == "Patience: The Quiet Engine"


def test_title_without_paragraphs_is_not_an_excerpt() -> None:
    lonely = "A Title Alone\n\nFrom the 1st part of the Daily Lesson 3/14/11, Talks\n\n"
    excerpts = parse(HEADER + INTRO + RIVER + lonely + PATIENCE + FOOTER)
    assert [e.title for e in excerpts] == ["Why Does the River Bend?", "Patience: The Quiet Engine"]


def test_without_a_heading_the_title_is_the_block_before_the_first_paragraph() -> None:
    excerpts = parse("Daily Study Notes\n\n" + RIVER + PATIENCE + FOOTER)
    assert [e.title for e in excerpts] == ["Why Does the River Bend?", "Patience: The Quiet Engine"]
    assert [len(e.paragraphs) for e in excerpts] == [4, 2]


def test_a_short_question_counts_as_the_first_paragraph() -> None:
    page = (
        "Study Notes\n\nWhat Is a Friend?\n\nQuestion: Who is a friend?\n\n"
        "Answer: The one who wants what you want.\n\n"
        "From the 1st part of the Daily Lesson 3/14/11, Talks\n"
    )
    (friend,) = parse(page)
    assert friend.title == "What Is a Friend?"
    assert [p.kind for p in friend.paragraphs] == [ParagraphKind.QUESTION, ParagraphKind.ANSWER]


def test_impossible_source_date_falls_back_to_the_heading_date() -> None:
    page = HEADER + INTRO + RIVER.replace("3/13/11", "13/45/11") + PATIENCE + FOOTER
    river, patience = parse(page)
    assert river.lesson_date == date(2011, 3, 14)
    assert river.source == "From the 2nd part of the Daily Lesson 13/45/11, Notes on Patience"
    assert patience.title == "Patience: The Quiet Engine"


def test_impossible_source_date_without_a_heading_is_an_error_naming_the_page() -> None:
    with pytest.raises(SourceError, match="13/45/11") as raised:
        parse(RIVER.replace("3/13/11", "13/45/11"), origin="undated.txt")
    assert raised.value.source == "undated.txt"


def test_page_of_only_chrome_is_an_error_naming_the_page() -> None:
    with pytest.raises(SourceError, match="no excerpts found") as raised:
        parse(HEADER + INTRO + FOOTER, origin="chrome-only.txt")
    assert raised.value.source == "chrome-only.txt"
    assert str(raised.value).startswith("chrome-only.txt: no excerpts found")


def test_real_seed_page_gives_its_two_excerpts_and_no_chrome() -> None:
    if not SEED.exists():
        pytest.skip(f"seed page not present at {SEED}")
    weep, group = parse_text_page(SEED.read_text(encoding="utf-8"), SEED.name)
    assert (weep.title, group.title) == ("Weep, My Soul", "The Group Beyond the External Veil")
    assert weep.lesson_date == group.lesson_date == date(2010, 12, 28)
    # Counted by hand: a lead quote, a question, an answer and ten more; a question, an answer
    # and nine more.
    assert (len(weep.paragraphs), len(group.paragraphs)) == (13, 11)
    assert weep.paragraphs[1].kind is ParagraphKind.QUESTION
    assert (weep.paragraphs[2].kind, weep.paragraphs[2].label) == (
        ParagraphKind.ANSWER,
        "Dr. Laitman's Answer",
    )
    seed_chrome = [
        "Kabbalah Newsletter",
        "Privacy:",
        "Bnei Baruch's Mission",
        "Daily Pages",
        "The Daily Page is a collection",
    ]
    for excerpt in (weep, group):
        for chrome in seed_chrome:
            assert chrome not in f"{excerpt.title}\n{excerpt.text}\n{excerpt.source}"


BITES = """Study Notes

Daily Study Bites - 05-08-10

Short pieces from the daily lesson, gathered by volunteers of the circle

Daily Study Tip

Practical advice from the lesson, one small task at a time ...

Keep a Notebook

Write one line after every lesson. Read the lines again at the end of the month.

Daily Study Q&A

Questions students sent after the lesson, with the teacher's answers ...

Why Sit Together?

Question: Why can't I study alone?

Answer: You can, but you will only ever hear yourself.

-from the 2nd part of the Daily Study Lesson 8/04/10 (minutes 3-9)
   and from the 3rd part (minutes 1-4)

Daily Study Bites

Study Newsletter

Privacy: Your email address will never be rented, traded or sold.
"""


def test_section_headings_and_their_descriptions_are_chrome_with_a_reason() -> None:
    reading = read_text_page(BITES, "bites.txt")
    reasons = {d.text: d.reason for d in reading.dropped}
    assert reasons["Daily Study Tip"] == reasons["Daily Study Q&A"] == "section heading"
    assert reasons["Practical advice from the lesson, one small task at a time ..."] == "section description"
    assert reasons["Short pieces from the daily lesson, gathered by volunteers of the circle"] == "intro"
    assert [e.title for e in reading.excerpts] == ["Keep a Notebook", "Why Sit Together?"]


def test_an_excerpt_without_a_source_line_ends_at_the_next_section_and_takes_the_page_date() -> None:
    notebook, together = read_text_page(BITES, "bites.txt").found
    assert notebook.excerpt.source == ""
    assert (notebook.excerpt.lesson_date, notebook.date_from) == (date(2010, 8, 5), DateFrom.PAGE_HEADER)
    assert [p.text for p in notebook.excerpt.paragraphs] == [
        "Write one line after every lesson. Read the lines again at the end of the month."]
    assert (together.excerpt.lesson_date, together.date_from) == (date(2010, 8, 4), DateFrom.SOURCE_LINE)


def test_a_continued_source_line_is_kept_whole() -> None:
    together = read_text_page(BITES, "bites.txt").excerpts[1]
    assert together.source == (
        "-from the 2nd part of the Daily Study Lesson 8/04/10 (minutes 3-9) and from the 3rd part (minutes 1-4)")


def test_an_unknown_line_the_site_repeats_is_chrome_even_after_an_unsourced_excerpt() -> None:
    widget = "Tell a friend about the morning table."
    page = BITES.replace("month.\n", f"month.\n\n{widget}\n")
    alone = read_text_page(page, "bites.txt").excerpts[0]
    assert widget in alone.text  # one page alone cannot tell it from prose
    repeats = Repeats()
    repeats.learn("bites.txt", text_blocks(page))
    repeats.learn("other.txt", [widget])
    reading = read_text_page(page, "bites.txt", repeats)
    assert widget not in reading.excerpts[0].text
    assert ("repeats on 2 pages of this site" in {d.reason for d in reading.dropped})


def test_two_excerpts_without_source_lines_in_one_section_split_at_the_second_title() -> None:
    page = BITES.replace("month.\n", "month.\n\nA Second Thought\n\nKeep the notebook where you can see it.\n")
    notebook, second, together = read_text_page(page, "bites.txt").excerpts
    assert [p.text for p in notebook.paragraphs] == [
        "Write one line after every lesson. Read the lines again at the end of the month."]
    assert (second.title, second.text, second.source) == (
        "A Second Thought", "Keep the notebook where you can see it.", "")
    assert together.title == "Why Sit Together?"


def test_an_excerpt_without_a_source_line_on_a_page_without_a_heading_is_an_error_naming_it() -> None:
    with pytest.raises(SourceError, match="the excerpt 'Keep a Notebook' has no source line") as caught:
        read_text_page("Keep a Notebook\n\nWrite one line after every lesson.\n", "undated.txt")
    assert caught.value.source == "undated.txt"


def test_a_section_description_that_is_no_sentence_is_still_the_section_s_description() -> None:
    page = BITES.replace("Practical advice from the lesson, one small task at a time ...", "Small tasks for home")
    reading = read_text_page(page, "bites.txt")
    assert Dropped("Small tasks for home", Cause.CHROME, "section description") in reading.dropped
    assert [e.title for e in reading.excerpts] == ["Keep a Notebook", "Why Sit Together?"]
