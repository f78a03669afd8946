"""A WordPress single post page: the post's title, date and entry, found by the classes WordPress writes."""

from __future__ import annotations

from datetime import date

from newsletter.content.chrome import Repeats
from newsletter.content.html_pages import read_html_page
from newsletter.content.reading import Cause, DateFrom, Dropped
from newsletter.content.wordpress import find_post

POST = """<html><body><header><p>Site Name</p></header>
<article class="post type-post hentry"><header class="entry-header"><h1 class="entry-title">A Lamp for the Table</h1>
<time class="entry-date published" datetime="2010-12-03T07:00:00+00:00">December 3, 2010</time></header>
<div class="entry-content"><p>One lamp in the middle lights every face at the table.</p>
<p>Nobody needs a lamp of his own there.</p></div></article>
<aside><p>Subscribe to the weekly letter</p></aside></body></html>"""


def test_a_single_post_page_gives_its_title_date_and_entry() -> None:
    post = find_post(POST)
    assert post is not None
    assert (post.title, post.published) == ("A Lamp for the Table", date(2010, 12, 3))
    assert "One lamp in the middle" in post.entry_html
    assert "Subscribe" not in post.entry_html


def test_a_page_listing_several_posts_is_not_a_single_post() -> None:
    listing = POST.replace("</body>", '<div class="entry-content"><p>Another post.</p></div></body>')
    assert find_post(listing) is None
    assert find_post("<p>no post here</p>") is None
    assert find_post("") is None


def test_a_post_without_a_source_line_is_dated_by_its_published_date_and_the_rest_is_outside() -> None:
    reading = read_html_page(POST, "post.html")
    [found] = reading.found
    assert (found.excerpt.lesson_date, found.date_from) == (date(2010, 12, 3), DateFrom.PAGE_HEADER)
    assert [p.text for p in found.excerpt.paragraphs] == [
        "One lamp in the middle lights every face at the table.", "Nobody needs a lamp of his own there."]
    outside = {d.text for d in reading.dropped if d.cause is Cause.OUTSIDE}
    assert {"Site Name", "December 3, 2010", "Subscribe to the weekly letter"} <= outside


def test_a_widget_inside_the_entry_ends_it_when_there_is_no_source_line() -> None:
    page = POST.replace("of his own there.</p>", "of his own there.</p><h3>Share this:</h3><p>Twitter</p>"
                        "<p>Our Other Posts</p>")
    [found] = read_html_page(page, "post.html").found
    assert len(found.excerpt.paragraphs) == 2


def test_an_unknown_widget_inside_an_entry_is_dropped_once_another_page_of_the_site_carries_it() -> None:
    widget = "Hear the lesson live on weekday mornings at six."
    page = POST.replace("of his own there.</p>", f"of his own there.</p><p>{widget}</p>")
    [alone] = read_html_page(page, "post.html").found
    assert widget in alone.excerpt.text  # one page alone cannot tell it from prose
    site = Repeats()
    site.learn("post.html", [widget, "One lamp in the middle lights every face at the table."])
    site.learn("other-post.html", [widget, "Another post's own sentence."])
    reading = read_html_page(page, "post.html", site)
    assert widget not in reading.found[0].excerpt.text
    assert Dropped(widget, Cause.CHROME, "repeats on 2 pages of this site") in reading.dropped


def test_the_same_sourced_excerpt_on_two_pages_of_a_site_is_kept_whole() -> None:
    article = ("<article><h2>The Open Window</h2><p>A window left open lets in the cold and the birdsong.</p>"
               "<p>From the 1st part of the Daily Lesson 3/14/11, Letters</p></article>")
    site = Repeats()
    for name in ("a.html", "b.html"):
        site.learn(name, ["The Open Window", "A window left open lets in the cold and the birdsong.",
                          "From the 1st part of the Daily Lesson 3/14/11, Letters"])
    [found] = read_html_page(f"<main>{article}</main>", "a.html", site).found
    assert [p.text for p in found.excerpt.paragraphs] == ["A window left open lets in the cold and the birdsong."]
