"""A daily page published as HTML gives its excerpts and nothing of the site around them."""

from __future__ import annotations

from datetime import date

import pytest

from newsletter.content.excerpt import Excerpt, Paragraph, ParagraphKind
from newsletter.content.html_pages import parse_html_page
from newsletter.errors import SourceError

ORIGIN = "https://daily.example.org/2011/03/14/"

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Morning Notes</title>
  <style>body { font-family: serif; } .signup { color: teal; }</style>
  <script>window.track = function () { alert("tracked"); };</script>
</head>
<body onload="track()">
  <header class="site">
    <p class="brand">Morning Notes Blog</p>
    <h1>The Daily Page - 14-03-11</h1>
  </header>
  <nav><a href="/">Home</a> <a href="/archive">Archive of old lessons</a></nav>
  <main>
    <p class="intro">This page gathers short passages from the morning study group.</p>
    <article id="first">
      <h2 onclick="alert('title')">The Open Window</h2>
      <p style="color: red">A window left open lets in the <em>cold</em> and the birdsong alike.</p>
      <script>document.querySelector("h2").onclick = () => alert("hi");</script>
      <style>.window { color: navy; }</style>
      <aside class="related"><p>Related passages about windows</p></aside>
      <p>We do not choose which one arrives first; we choose whether to stay by the window.</p>
      <p>From the 1st part of the Daily Lesson 3/14/11, Letters of the Sages</p>
      <form class="share"><button>Share by email</button><label>Your friend</label></form>
      <nav class="pager"><a href="/prev">Older passage</a></nav>
    </article>
    <article id="second">
      <h2>Asking Well</h2>
      <p><strong>Question:</strong> How do I know that my request is sincere?</p>
      <p>Teacher&rsquo;s Answer: A sincere request keeps asking after the first refusal.</p>
      <p>It does not bargain, and it does not wait for a reward.</p>
      <p>From the 2nd part of the Daily Lesson 3/14/11, Talks on Effort</p>
    </article>
  </main>
  <aside class="signup">
    <h3>Weekly Letter</h3>
    <p>Get the best passages of the week in your inbox.</p>
    <form action="/subscribe" method="post">
      <label>Email</label><input type="email" name="email">
      <button type="submit" onclick="alert('thanks')">Subscribe now</button>
    </form>
    <p>Privacy: we keep your address to ourselves.</p>
  </aside>
  <footer><p>Our mission is to share these lessons freely.</p></footer>
  <script>alert("bye")</script>
</body>
</html>
"""


def _fields(excerpt: Excerpt) -> list[str]:
    """Every stored text field of an excerpt."""
    return [
        excerpt.title,
        excerpt.source,
        excerpt.origin,
        *(p.text for p in excerpt.paragraphs),
        *(p.label for p in excerpt.paragraphs),
    ]


def _article_page(*articles: str, heading: str = "") -> str:
    head = f"<header><h1>{heading}</h1></header>" if heading else ""
    return f"<html><body>{head}<main>{''.join(articles)}</main></body></html>"


def test_each_article_is_one_excerpt_in_page_order() -> None:
    excerpts = parse_html_page(PAGE, ORIGIN)
    assert [e.title for e in excerpts] == ["The Open Window", "Asking Well"]
    assert {e.origin for e in excerpts} == {ORIGIN}


def test_paragraphs_are_read_exactly_and_the_source_line_kept_apart() -> None:
    first, second = parse_html_page(PAGE, ORIGIN)
    assert first.paragraphs == (
        Paragraph("A window left open lets in the cold and the birdsong alike."),
        Paragraph("We do not choose which one arrives first; we choose whether to stay by the "
                  "window."),
    )
    assert first.source == "From the 1st part of the Daily Lesson 3/14/11, Letters of the Sages"
    assert len(second.paragraphs) == 3
    assert second.source == "From the 2nd part of the Daily Lesson 3/14/11, Talks on Effort"


def test_question_and_answer_become_structure() -> None:
    second = parse_html_page(PAGE, ORIGIN)[1]
    assert [(p.kind, p.label) for p in second.paragraphs] == [
        (ParagraphKind.QUESTION, "Question"),
        (ParagraphKind.ANSWER, "Teacher’s Answer"),
        (ParagraphKind.TEXT, ""),
    ]
    assert second.paragraphs[0].text == "How do I know that my request is sincere?"


@pytest.mark.parametrize(
    "chrome",
    [
        "Morning Notes Blog",
        "Home",
        "Archive of old lessons",
        "This page gathers short passages",
        "Weekly Letter",
        "Get the best passages of the week",
        "Email",
        "Subscribe now",
        "Privacy: we keep your address to ourselves.",
        "Our mission is to share these lessons freely.",
        "The Daily Page",
        "Related passages",
        "Share by email",
        "Your friend",
        "Older passage",
    ],
    ids=["brand", "nav-home", "nav-archive", "intro", "signup-heading", "signup-pitch",
         "form-label", "form-button", "signup-privacy", "footer", "page-heading",
         "aside-in-article", "form-button-in-article", "form-label-in-article",
         "nav-in-article"],
)
def test_site_chrome_never_reaches_an_excerpt(chrome: str) -> None:
    for excerpt in parse_html_page(PAGE, ORIGIN):
        for field in _fields(excerpt):
            assert chrome not in field


@pytest.mark.parametrize(
    "needle",
    ["<script", "alert(", "onclick", "querySelector", "onload", "style", "color:", "navy",
     "font-family", "track", "<"],
    ids=["script-tag", "alert-call", "onclick", "script-in-article", "onload", "style-attribute",
         "css-rule", "css-in-article", "css-font", "script-body", "any-markup"],
)
def test_no_script_style_or_handler_survives_in_any_field(needle: str) -> None:
    for excerpt in parse_html_page(PAGE, ORIGIN):
        for field in _fields(excerpt):
            assert needle not in field


def test_nested_inline_markup_is_flattened_and_a_line_break_is_a_space() -> None:
    page = _article_page(
        "<article><h2>On <em>Patience</em></h2>"
        '<p>Wait <em>a <strong>little</strong></em>, then <a href="/more">read it</a>'
        "<br>once more &amp; slowly.</p>"
        "<p>From the 1st part of the Daily Lesson 3/15/11, Notes</p></article>"
    )
    (excerpt,) = parse_html_page(page, ORIGIN)
    assert excerpt.title == "On Patience"
    assert excerpt.paragraphs == (Paragraph("Wait a little, then read it once more & slowly."),)


def test_article_header_and_footer_give_title_date_and_source_but_no_body() -> None:
    page = _article_page(
        "<article><header><h2>Roots</h2><p>Posted by the editor</p>"
        '<time datetime="2011-03-16T06:30:00+02:00">Wednesday</time></header>'
        "<p>A tree is as tall as its roots are deep.</p>"
        "<footer><p>From the 3rd part of the Daily Lesson 3/16/11, Parables</p>"
        "<p>Share this passage</p></footer></article>"
    )
    (excerpt,) = parse_html_page(page, ORIGIN)
    assert excerpt.title == "Roots"
    assert excerpt.paragraphs == (Paragraph("A tree is as tall as its roots are deep."),)
    assert excerpt.source == "From the 3rd part of the Daily Lesson 3/16/11, Parables"
    assert excerpt.lesson_date == date(2011, 3, 16)


SOURCE_LINE = "<p>From the 1st part of the Daily Lesson 3/14/11, Letters</p>"
TIME = '<time datetime="2011-03-20">Sunday</time>'
HEADING = "The Daily Page - 25-03-11"


@pytest.mark.parametrize(
    ("article", "heading", "expected"),
    [
        (f"{TIME}<p>Body text.</p>{SOURCE_LINE}", HEADING, date(2011, 3, 14)),
        (f"{TIME}<p>Body text.</p>", HEADING, date(2011, 3, 20)),
        ("<p>Body text.</p>", HEADING, date(2011, 3, 25)),
        (f"<p>Body text.</p>{SOURCE_LINE}", "", date(2011, 3, 14)),
        (f"{TIME}<p>Body text.</p>", "", date(2011, 3, 20)),
    ],
    ids=["source-line-beats-time-and-heading", "time-beats-heading", "heading-alone",
         "source-line-alone", "time-alone"],
)
def test_date_comes_from_source_line_then_time_then_page_heading(
    article: str, heading: str, expected: date
) -> None:
    page = _article_page(f"<article><h2>Dated</h2>{article}</article>", heading=heading)
    (excerpt,) = parse_html_page(page, ORIGIN)
    assert excerpt.lesson_date == expected
    assert excerpt.paragraphs == (Paragraph("Body text."),)


def test_an_excerpt_without_any_date_is_skipped() -> None:
    page = _article_page(
        "<article><h2>Undated</h2><p>No date anywhere.</p></article>",
        f"<article><h2>Dated</h2><p>Body text.</p>{SOURCE_LINE}</article>",
    )
    assert [e.title for e in parse_html_page(page, ORIGIN)] == ["Dated"]


def test_an_article_without_title_or_body_is_skipped() -> None:
    page = _article_page(
        f"<article><p>No heading here.</p>{SOURCE_LINE}</article>",
        f"<article><h2>Only a title</h2>{SOURCE_LINE}</article>",
        f"<article><h2>Whole</h2><p>Body text.</p>{SOURCE_LINE}</article>",
    )
    assert [e.title for e in parse_html_page(page, ORIGIN)] == ["Whole"]


H2_PAGE = """<html><body>
<header><p>Morning Notes Blog</p></header>
<nav><a href="/">Home</a></nav>
<main>
  <h1>The Daily Page - 17-03-11</h1>
  <p>This page gathers short passages from the morning study group.</p>
  <h2>Two Roads</h2>
  <p>Both roads reach the town; only one passes the well.</p>
  <p>Question: Which road should a tired walker take?</p>
  <p>Answer: The one with the well, even if it is longer.</p>
  <p>From the 1st part of the Daily Lesson 3/16/11, Parables</p>
  <div class="entry">
    <h2>Small Lamps</h2>
    <p>A small lamp is enough for the next step.</p>
  </div>
</main>
<aside><p>Get the best passages of the week in your inbox.</p></aside>
<footer><p>Our mission is to share these lessons freely.</p></footer>
</body></html>
"""


def test_without_articles_each_h2_in_main_opens_an_excerpt() -> None:
    two_roads, small_lamps = parse_html_page(H2_PAGE, ORIGIN)
    assert two_roads.title == "Two Roads"
    assert [p.kind for p in two_roads.paragraphs] == [
        ParagraphKind.TEXT, ParagraphKind.QUESTION, ParagraphKind.ANSWER,
    ]
    assert two_roads.source == "From the 1st part of the Daily Lesson 3/16/11, Parables"
    assert two_roads.lesson_date == date(2011, 3, 16)
    assert small_lamps.paragraphs == (Paragraph("A small lamp is enough for the next step."),)
    assert small_lamps.source == ""
    assert small_lamps.lesson_date == date(2011, 3, 17)


@pytest.mark.parametrize(
    "chrome",
    ["Morning Notes Blog", "Home", "This page gathers", "Get the best passages", "Our mission"],
    ids=["header", "nav", "intro", "aside", "footer"],
)
def test_h2_split_pages_drop_chrome_too(chrome: str) -> None:
    for excerpt in parse_html_page(H2_PAGE, ORIGIN):
        assert all(chrome not in field for field in _fields(excerpt))


def test_without_main_the_h2_headings_in_body_split_the_excerpts() -> None:
    page = (
        "<body><h2>The Daily Page - 18-03-11</h2><h2>First</h2><p>One.</p>"
        "<aside><h2>Weekly Letter</h2><p>Sign up here.</p></aside>"
        "<h2>Second</h2><p>Two.</p><form><label>Email</label></form><p>Three.</p></body>"
    )
    excerpts = parse_html_page(page, ORIGIN)
    assert [(e.title, len(e.paragraphs), e.lesson_date) for e in excerpts] == [
        ("First", 1, date(2011, 3, 18)),
        ("Second", 2, date(2011, 3, 18)),
    ]


@pytest.mark.parametrize(
    "html",
    [
        "",
        "just some words, no markup",
        "<<<not html>>>",
        "<html><body><nav>Home</nav><aside>Sign up</aside><footer>Mission</footer></body></html>",
        "<main><p>An intro with no headings at all.</p></main>",
    ],
    ids=["empty", "plain-text", "garbage", "only-chrome", "no-headings"],
)
def test_a_page_without_excerpts_raises_a_source_error_naming_the_origin(html: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_html_page(html, ORIGIN)
    assert caught.value.source == ORIGIN
    assert str(caught.value).startswith(
        f"{ORIGIN}: no excerpts found: nothing on the page can be told apart from site chrome; expected")


def test_a_page_whose_excerpts_are_all_undated_says_so() -> None:
    page = _article_page("<article><h2>Undated</h2><p>No date anywhere.</p></article>")
    with pytest.raises(SourceError, match="no excerpt on this page carries a date") as caught:
        parse_html_page(page, ORIGIN)
    assert caught.value.source == ORIGIN


def test_a_title_in_typographic_quotes_is_kept_without_them_as_on_the_text_page() -> None:
    page = _article_page("<article><h2>“The Open Door”</h2><p>A door left open lets the friends in.</p>"
                         "<p>From the 1st part of the Daily Lesson 3/14/11, Letters</p></article>")
    [door] = parse_html_page(page, ORIGIN)
    assert door.title == "The Open Door"
