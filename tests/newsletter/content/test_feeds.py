"""RSS and Atom items become excerpts, read the same way as a web page's articles."""

from __future__ import annotations

from datetime import date
from html import escape
from pathlib import Path

import pytest

from newsletter.content.excerpt import Excerpt, Paragraph, ParagraphKind, paragraph
from newsletter.content.feeds import parse_feed
from newsletter.content.html_pages import parse_html_page
from newsletter.errors import SourceError

ORIGIN = "https://daily.example.org/feed.xml"


def _rss(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel><title>Morning Notes</title><link>https://daily.example.org/</link>"
        "<description>Short passages from the morning study group</description>"
        f"{''.join(items)}</channel></rss>"
    ).encode()


def _atom(*entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Morning Notes</title>'
        "<id>urn:example:morning-notes</id><updated>2011-03-20T08:00:00Z</updated>"
        f"{''.join(entries)}</feed>"
    ).encode()


def _item(title: str, body_html: str, pub_date: str = "", element: str = "description") -> str:
    title_xml = f"<title>{escape(title)}</title>" if title else ""
    body_xml = f"<{element}>{escape(body_html)}</{element}>" if body_html else ""
    date_xml = f"<pubDate>{pub_date}</pubDate>" if pub_date else ""
    return f"<item>{title_xml}<link>https://daily.example.org/p</link>{date_xml}{body_xml}</item>"


def _entry(title: str, content: str, updated: str = "2011-03-19T06:00:00Z") -> str:
    return (
        f"<entry><title>{escape(title)}</title><id>urn:example:{escape(title)}</id>"
        f"<updated>{updated}</updated>{content}</entry>"
    )


SOURCE = "From the 1st part of the Daily Lesson 3/14/11, Letters of the Sages"
BODY = (
    "<p>A window left open lets in the <em>cold</em> and the birdsong alike.</p>"
    "<p><strong>Question:</strong> Which one should I wait for?</p>"
    "<p>Answer: Neither; stay by the window.</p>"
    f"<p>{SOURCE}</p>"
)
EXPECTED_PARAGRAPHS = (
    Paragraph("A window left open lets in the cold and the birdsong alike."),
    Paragraph("Which one should I wait for?", ParagraphKind.QUESTION, "Question"),
    Paragraph("Neither; stay by the window.", ParagraphKind.ANSWER, "Answer"),
)


def test_each_rss_item_is_one_excerpt_with_its_source_line_apart() -> None:
    feed = _rss(
        _item("The Open Window", BODY, "Mon, 14 Mar 2011 07:00:00 +0000"),
        _item("Small Lamps", "<p>A small lamp is enough.</p>", "Wed, 16 Mar 2011 07:00:00 GMT"),
    )
    window, lamps = parse_feed(feed, ORIGIN)
    assert (window.title, window.source, window.origin) == ("The Open Window", SOURCE, ORIGIN)
    assert window.paragraphs == EXPECTED_PARAGRAPHS
    assert window.lesson_date == date(2011, 3, 14)
    assert (lamps.title, lamps.source, lamps.lesson_date) == ("Small Lamps", "", date(2011, 3, 16))
    assert lamps.paragraphs == (Paragraph("A small lamp is enough."),)


def test_rss_content_encoded_is_preferred_over_the_description() -> None:
    item = (
        "<item><title>Roots</title><pubDate>Wed, 16 Mar 2011 07:00:00 GMT</pubDate>"
        "<description>A teaser only.</description>"
        "<content:encoded><![CDATA[<p>A tree is as tall as its roots are deep.</p>"
        "<p>The storm finds out which trees listened.</p>]]></content:encoded></item>"
    )
    (excerpt,) = parse_feed(_rss(item), ORIGIN)
    assert [p.text for p in excerpt.paragraphs] == [
        "A tree is as tall as its roots are deep.",
        "The storm finds out which trees listened.",
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (f'<content type="html">{escape(BODY)}</content>', EXPECTED_PARAGRAPHS),
        (
            '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
            f"{BODY}</div></content>",
            EXPECTED_PARAGRAPHS,
        ),
        (f'<summary type="html">{escape(BODY)}</summary>', EXPECTED_PARAGRAPHS),
        (
            '<content type="text">First plain line\nwraps here.\n\nSecond one.</content>',
            (Paragraph("First plain line wraps here."), Paragraph("Second one.")),
        ),
    ],
    ids=["html-content", "xhtml-content", "html-summary", "text-content"],
)
def test_atom_entries_read_every_content_type(
    content: str, expected: tuple[Paragraph, ...]
) -> None:
    (excerpt,) = parse_feed(_atom(_entry("The Open Window", content)), ORIGIN)
    assert excerpt.title == "The Open Window"
    assert excerpt.paragraphs == expected


def test_an_atom_html_title_is_flattened_to_text() -> None:
    entry = (
        '<entry><title type="html">On &lt;em&gt;Patience&lt;/em&gt; &amp;amp; Time</title>'
        "<id>urn:example:patience</id><updated>2011-03-19T06:00:00Z</updated>"
        "<content type=\"html\">&lt;p&gt;Wait.&lt;/p&gt;</content></entry>"
    )
    (excerpt,) = parse_feed(_atom(entry), ORIGIN)
    assert excerpt.title == "On Patience & Time"


@pytest.mark.parametrize(
    ("feed", "expected"),
    [
        (_rss(_item("T", "<p>Body.</p>", "Mon, 14 Mar 2011 23:30:00 -0500")), date(2011, 3, 14)),
        (_rss(_item("T", f"<p>Body.</p><p>{SOURCE}</p>", "Fri, 18 Mar 2011 07:00:00 GMT")),
         date(2011, 3, 14)),
        (_atom(_entry("T", "<summary>Body.</summary>", "2011-03-19T23:30:00-05:00")),
         date(2011, 3, 19)),
        (_atom(
            "<entry><title>T</title><id>urn:example:t</id>"
            "<published>2011-03-17T06:00:00Z</published><updated>2011-03-21T06:00:00Z</updated>"
            "<summary>Body.</summary></entry>"
        ), date(2011, 3, 17)),
    ],
    ids=["rss-pubdate-in-its-own-offset", "source-line-beats-pubdate", "atom-updated",
         "atom-published-beats-updated"],
)
def test_item_date_is_the_fallback_after_the_source_line(feed: bytes, expected: date) -> None:
    (excerpt,) = parse_feed(feed, ORIGIN)
    assert excerpt.lesson_date == expected


def test_items_without_title_body_or_date_are_skipped() -> None:
    feed = _rss(
        _item("", "<p>No title here.</p>", "Mon, 14 Mar 2011 07:00:00 GMT"),
        _item("No body", "", "Mon, 14 Mar 2011 07:00:00 GMT"),
        _item("Only a source line", f"<p>{SOURCE}</p>", "Mon, 14 Mar 2011 07:00:00 GMT"),
        _item("No date", "<p>Nothing says when.</p>"),
        _item("Whole", "<p>Body.</p>", "Mon, 14 Mar 2011 07:00:00 GMT"),
    )
    assert [e.title for e in parse_feed(feed, ORIGIN)] == ["Whole"]


def test_a_title_repeated_atop_the_content_is_not_body_text() -> None:
    feed = _rss(_item("Roots", "<h2>Roots</h2><p>Deep.</p>", "Mon, 14 Mar 2011 07:00:00 GMT"))
    (excerpt,) = parse_feed(feed, ORIGIN)
    assert excerpt.paragraphs == (Paragraph("Deep."),)


def test_line_breaks_in_feed_html_join_and_double_breaks_split() -> None:
    body = 'Wait <em>a <a href="/x">little</a></em><br>longer.<br><br>Then go.'
    (excerpt,) = parse_feed(_rss(_item("T", body, "Mon, 14 Mar 2011 07:00:00 GMT")), ORIGIN)
    assert excerpt.paragraphs == (Paragraph("Wait a little longer."), Paragraph("Then go."))


@pytest.mark.parametrize("needle", ["<script", "alert(", "onclick", "style", "color:", "<"],
                         ids=["script-tag", "alert-call", "onclick", "style", "css", "markup"])
def test_no_script_style_or_handler_survives_from_a_feed(needle: str) -> None:
    body = (
        '<p onclick="alert(1)" style="color: red">Calm <script>alert("x")</script>water.</p>'
        "<style>p { color: red }</style>"
    )
    feed = _rss(_item("Calm", body, "Mon, 14 Mar 2011 07:00:00 GMT"))
    (excerpt,) = parse_feed(feed, ORIGIN)
    assert excerpt.paragraphs == (Paragraph("Calm water."),)
    fields = [excerpt.title, excerpt.source, *(p.plain() for p in excerpt.paragraphs)]
    assert all(needle not in field for field in fields)


def test_a_feed_with_no_items_gives_no_excerpts() -> None:
    assert parse_feed(_rss(), ORIGIN) == []


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"this is not a feed at all",
        b"<html><body><p>A web page, not a feed.</p></body></html>",
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Cut</tit',
        b"\x00\xff\xfe garbage",
        ORIGIN.encode(),
    ],
    ids=["empty", "prose", "html-page", "truncated-xml", "binary", "a-url-is-not-fetched"],
)
def test_a_document_that_is_not_a_feed_raises_a_source_error_naming_the_origin(
    data: bytes,
) -> None:
    with pytest.raises(SourceError, match="RSS or Atom feed") as caught:
        parse_feed(data, ORIGIN)
    assert caught.value.source == ORIGIN
    assert str(caught.value).startswith(f"{ORIGIN}: ")


def test_bytes_naming_a_local_file_are_parsed_not_opened(tmp_path: Path) -> None:
    feed_file = tmp_path / "feed.xml"
    feed_file.write_bytes(_rss(_item("T", "<p>Body.</p>", "Mon, 14 Mar 2011 07:00:00 GMT")))
    with pytest.raises(SourceError):
        parse_feed(str(feed_file).encode(), ORIGIN)


def test_the_same_excerpt_hashes_alike_from_text_html_rss_and_atom() -> None:
    by_hand = Excerpt(
        title="The Teacher’s “Open” Window",
        lesson_date=date(2011, 3, 14),
        source=SOURCE,
        paragraphs=(
            paragraph("A window left open lets in the cold – and the birdsong – alike."),
            paragraph("Question: Isn’t it “too cold” to wait?"),
            paragraph("Teacher’s Answer: Not if you wait together."),
        ),
    )
    html_body = (
        "<p>A window left open lets in the <em>cold</em> &ndash; and the birdsong &#8211; "
        "alike.</p><p><b>Question:</b> Isn&rsquo;t it &ldquo;too cold&rdquo; to wait?</p>"
        "<p>Teacher&#8217;s Answer:<br>Not if you wait together.</p>"
        f"<p>{SOURCE}</p>"
    )
    page = (
        "<html><body><nav>Home</nav><main><article>"
        "<h2>The Teacher&rsquo;s &ldquo;Open&rdquo; Window</h2>"
        f"{html_body}</article></main><footer>Mission</footer></body></html>"
    )
    ascii_body = (
        "<p>A window left open lets in the cold - and the birdsong - alike.</p>"
        "<p>Question: Isn't it \"too cold\" to wait?</p>"
        "<p>Teacher's Answer: Not if you wait together.</p>"
        f"<p>{SOURCE}</p>"
    )
    ascii_title = "The Teacher's \"Open\" Window"
    rss = _rss(_item(ascii_title, ascii_body, "Mon, 14 Mar 2011 07:00:00 GMT"))
    atom = _atom(_entry(ascii_title, f'<content type="html">{escape(html_body)}</content>'))

    (from_html,) = parse_html_page(page, ORIGIN)
    (from_rss,) = parse_feed(rss, ORIGIN)
    (from_atom,) = parse_feed(atom, ORIGIN)
    assert from_html.content_hash == by_hand.content_hash
    assert from_rss.content_hash == by_hand.content_hash
    assert from_atom.content_hash == by_hand.content_hash
    assert [e.source for e in (from_html, from_rss, from_atom)] == [SOURCE] * 3
