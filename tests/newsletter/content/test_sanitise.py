"""Untrusted HTML becomes harmless markup, then plain text blocks."""

from __future__ import annotations

import pytest

from newsletter.content.sanitise import Block, blocks, clean_html, parse_fragment


def _blocks(html: str) -> list[Block]:
    return blocks(parse_fragment(html))


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<p>Still <script>alert("x")</script>water</p>', "<p>Still water</p>"),
        ("<style>p { color: red }</style><p>Calm</p>", "<p>Calm</p>"),
        ('<p onclick="alert(1)" style="color: red" class="lead">Calm</p>', "<p>Calm</p>"),
        ('<a href="javascript:alert(1)" onmouseover="go()">here</a>', "<a>here</a>"),
        ("<p>Calm<!-- a note for editors --></p>", "<p>Calm</p>"),
        ("<head><title>My Blog</title></head><p>Calm</p>", "<p>Calm</p>"),
        ("<p>Pick <select><option>one</option></select></p>", "<p>Pick </p>"),
        ('<iframe src="https://example.org/"></iframe><p>Calm</p>', "<p>Calm</p>"),
        ("<unknown>kept as text</unknown>", "kept as text"),
    ],
    ids=["script", "style", "attributes", "link", "comment", "title", "select", "iframe",
         "unknown-tag"],
)
def test_clean_html_keeps_only_harmless_structure_and_text(html: str, expected: str) -> None:
    assert clean_html(html) == expected


def test_clean_html_keeps_the_datetime_of_a_time_element_and_nothing_else() -> None:
    html = '<time datetime="2011-03-14" class="stamp" onclick="x()">March 14</time>'
    assert clean_html(html) == '<time datetime="2011-03-14">March 14</time>'


def test_each_block_element_is_one_block_with_inline_markup_flattened() -> None:
    html = (
        "<div><p>First <em>quiet</em> line,</p>"
        "<ul><li>one <strong>item</strong></li><li>two</li></ul>"
        "<blockquote><p>A quoted <a href='/x'>line</a>.</p></blockquote></div>"
    )
    assert [b.text for b in _blocks(html)] == [
        "First quiet line,", "one item", "two", "A quoted line.",
    ]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>the first line<br>the second</p>", ["the first line the second"]),
        ("<p>ends here<br/></p>", ["ends here"]),
        ("<p>one<br><br>two</p>", ["one", "two"]),
        ("<p>one<br> <br>\n<br>two</p>", ["one", "two"]),
        ("<p><em>one<br>two</em></p>", ["one two"]),
    ],
    ids=["single-break-is-a-space", "trailing-break", "double-break-splits",
         "spaced-breaks-split", "break-inside-inline"],
)
def test_line_breaks_join_and_paragraph_breaks_split(html: str, expected: list[str]) -> None:
    assert [b.text for b in _blocks(html)] == expected


def test_entities_are_decoded_and_whitespace_collapsed() -> None:
    html = "<p>  Tea&nbsp;&amp;\n\t toast, &ldquo;warm&rdquo; &#8212; it&#8217;s  fine </p>"
    assert [b.text for b in _blocks(html)] == ["Tea & toast, “warm” — it’s fine"]


def test_loose_text_between_blocks_is_a_block_of_its_own() -> None:
    html = "<div>before<p>inside</p>after <em>this</em></div>"
    assert [b.text for b in _blocks(html)] == ["before", "inside", "after this"]


def test_headings_carry_their_level() -> None:
    html = "<h1>Page</h1><h2>Title <em>here</em></h2><p>text</p><h3>Sub</h3>"
    assert [(b.text, b.level) for b in _blocks(html)] == [
        ("Page", 1), ("Title here", 2), ("text", 0), ("Sub", 3),
    ]


def test_blocks_inside_header_and_footer_name_their_region() -> None:
    html = "<header><h2>T</h2></header><p>body</p><footer><p>end</p></footer>"
    assert [(b.text, b.region) for b in _blocks(html)] == [
        ("T", "header"), ("body", ""), ("end", "footer"),
    ]


def test_a_block_of_only_time_elements_is_meta_and_keeps_its_datetime() -> None:
    html = (
        '<p><time datetime="2011-03-14">March 14</time></p>'
        '<p>On <time datetime="2011-03-15">Tuesday</time> we met.</p>'
    )
    assert _blocks(html) == [
        Block("March 14", datetimes=("2011-03-14",), meta=True),
        Block("On Tuesday we met.", datetimes=("2011-03-15",)),
    ]


@pytest.mark.parametrize(
    "html", ["", "   ", "<p> </p>", "<div><br></div>", "<script>alert(1)</script>"],
    ids=["empty", "blank", "empty-paragraph", "only-a-break", "only-a-script"],
)
def test_markup_without_text_gives_no_blocks(html: str) -> None:
    assert _blocks(html) == []


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<<<>>>", ["<<<>>>"]),
        ("<p>unclosed <em>tags<div>next", ["unclosed tags", "next"]),
        ("</p></div>stray closers", ["stray closers"]),
    ],
    ids=["angle-brackets", "unclosed", "stray-closers"],
)
def test_malformed_markup_is_read_as_a_browser_would(html: str, expected: list[str]) -> None:
    assert [b.text for b in _blocks(html)] == expected
