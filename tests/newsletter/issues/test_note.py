"""The editor's note: a small, safe Markdown subset; anything else is refused with a message."""

from __future__ import annotations

import pytest

from newsletter.errors import EditError
from newsletter.issues.note import read_note


def test_the_small_subset_renders_and_the_text_part_keeps_the_markdown() -> None:
    note = read_note("A *quiet* week.\n\n- read [the archive](https://news.example.org/issues/)\n- rest\n\n> a quote")
    assert note.html == ('<p>A <em>quiet</em> week.</p>\n<ul>\n<li>read <a href="https://news.example.org/issues/" '
                         'rel="noopener">the archive</a></li>\n<li>rest</li>\n</ul>\n<blockquote>\n<p>a quote</p>\n'
                         "</blockquote>")
    assert note.text.startswith("A *quiet* week.")


@pytest.mark.parametrize(("markdown", "said"), [
    ("Hello <script>alert(1)</script>", "the note holds <script>; a note is Markdown only"),
    ('<img src=x onerror="alert(1)">', "the note holds <img>"),
    ("   ", "the note is empty"),
    ("x" * 2001, "the note is 2,001 characters; keep it under 2,000"),
], ids=["script", "img-onerror", "empty", "too-long"])
def test_a_note_with_markup_or_nothing_in_it_is_refused_with_a_message(markdown: str, said: str) -> None:
    with pytest.raises(EditError, match=said):
        read_note(markdown)


@pytest.mark.parametrize(("markdown", "tag"), [
    ("[click](javascript:alert(1))", "<a"), ("# Heading", "<h1"), ("![x](https://e.org/x.png)", "<img"),
    ("`code`", "<code"),
], ids=["javascript-link", "heading", "image", "code"])
def test_what_is_outside_the_subset_stays_text(markdown: str, tag: str) -> None:
    html = read_note(markdown).html
    assert html.startswith("<p>")
    assert tag not in html
