"""Fuzz: whatever a text page, an HTML page or a feed holds, its parser gives a reading or the project's own
error (SourceError), and nothing else, within a time bound per input (hypothesis' deadline)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from newsletter.content.chrome import Repeats
from newsletter.content.feeds import read_feed
from newsletter.content.html_pages import read_html_page
from newsletter.content.reading import Reading
from newsletter.content.text_pages import read_text_page
from newsletter.errors import SourceError

BOUND = settings(max_examples=200, deadline=timedelta(seconds=2),
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Pieces of the real shapes, so that the fuzzer reaches deep into the parsers and not only their first check.
LINES = st.sampled_from([
    "The Daily Page - 28-12-10", "Daily Study Bites - 04-08-10", "Daily Study Tip", "Daily Pages",
    "From the 1st part of the Daily Study Lesson 12/28/10, Letters", "From the lesson 13/45/10, Letters",
    "-from the 1st part of the daily study lesson (minutes 12-15)", "  and from the 2nd part (minutes 7-38)",
    "Question: Why?", "Dr. Adler's Answer: Because.", "“A Quoted Title”", "...a lead [with an insertion].",
    "Share this:", "Study Newsletter", "Privacy: Your email address will never be rented, traded or sold.",
    "A Title", "A sentence of body text that ends as prose does.", "", " ", "\r", "\t", "\x00", "\ufeff",
])
TAGS = st.sampled_from([
    "<article>", "</article>", "<h1>", "</h1>", "<h2>", "</h2>", "<p>", "</p>", "<br>", "<main>", "<nav>",
    "<aside>", "<form>", "<header>", "<footer>", "<div class=\"entry-content\">", "<h1 class=\"entry-title\">",
    "</div>", "<time datetime=\"2010-12-28\">", "<time datetime=\"9999-99-99\">", "</time>", "<script>",
    "</script>", "<style>", "<!--", "-->", "<![CDATA[", "]]>", "&amp;#8217;", "&#0;", "&#xD800;", "<",
])
FEED_PARTS = st.sampled_from([
    '<?xml version="1.0" encoding="UTF-8"?>', '<rss version="2.0">', "</rss>", "<channel>", "</channel>",
    "<item>", "</item>", "<title>", "</title>", "<description>", "</description>", "<pubDate>", "</pubDate>",
    "Sat, 04 Dec 2010 07:30:00 +0000", "Feb 30 2010", '<content:encoded xmlns:content="x">', "</content:encoded>",
    '<feed xmlns="http://www.w3.org/2005/Atom">', "</feed>", "<entry>", "</entry>", '<content type="html">',
    "</content>", "<category>Daily Page</category>", '<enclosure url="x" type="audio/mpeg"/>', "[&#8230;]",
    "&lt;p&gt;", "&lt;/p&gt;", "<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\">]>", "&a;", "\x00", "\xff",
])


def _text(parts: list[str]) -> str:
    return "\n".join(parts)


def _outcome(read: Callable[[], Reading]) -> Reading | SourceError:
    """What a parser gave: a reading, or the project's error (any other exception fails the test)."""
    try:
        return read()
    except SourceError as error:
        return error



@BOUND
@given(st.one_of(st.text(), st.lists(st.one_of(LINES, st.text(max_size=40)), max_size=60).map(_text)))
def test_the_text_page_parser_gives_a_reading_or_a_source_error(page: str) -> None:
    repeats = Repeats()
    repeats.learn("other", page.splitlines())
    outcome = _outcome(lambda: read_text_page(page, "fuzz.txt", repeats))
    assert outcome.source == "fuzz.txt" if isinstance(outcome, SourceError) else outcome.found


@BOUND
@example("0\x1f")  # found by this test: lxml refused the control character (ValueError)
@given(st.one_of(st.text(), st.lists(st.one_of(TAGS, LINES, st.text(max_size=30)), max_size=80).map("".join)))
def test_the_html_parser_gives_a_reading_or_a_source_error(page: str) -> None:
    outcome = _outcome(lambda: read_html_page(page, "fuzz.html"))
    assert outcome.source == "fuzz.html" if isinstance(outcome, SourceError) else outcome.found


@BOUND
@example(b"<>&#xD800;")  # found by this test: feedparser raised UnicodeEncodeError on a lone surrogate
@given(st.one_of(st.binary(), st.lists(st.one_of(FEED_PARTS, TAGS, LINES, st.text(max_size=30)), max_size=80)
                 .map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))))
def test_the_feed_parser_gives_a_reading_or_a_source_error(data: bytes) -> None:
    outcome = _outcome(lambda: read_feed(data, "fuzz.xml", frozenset({"daily page"})))
    assert outcome.source == "fuzz.xml" if isinstance(outcome, SourceError) else outcome.origin == "fuzz.xml"
