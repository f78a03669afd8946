"""Excerpts from a page published as HTML: a WordPress post's entry, <article>s, or <h2> sections.

A WordPress single post page (`wordpress.py`) is read as one entry, and every block around it is outside
the entry. Other pages give one excerpt per <article>, or split at <h2> headings inside <main> (else
<body>); site chrome (<nav>, <aside>, <form>, and <header>/<footer> outside an article) is dropped first.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date

import lxml.html

from newsletter.content.chrome import Repeats
from newsletter.content.entries import Fallback, read_entry
from newsletter.content.excerpt import Excerpt
from newsletter.content.lesson_dates import page_heading_date, source_line_date
from newsletter.content.reading import Cause, DateFrom, Dropped, Found, Reading, without_repeats
from newsletter.content.sanitise import Block, blocks, parse_fragment
from newsletter.content.wordpress import find_post
from newsletter.errors import SourceError

# Site chrome: never part of an excerpt. A <header> or <footer> inside an <article> is the
# article's own (title, date, source line) and is read; one outside is the site's.
_CHROME = ("nav", "aside", "form")
_PAGE_REGIONS = ("header", "footer")

_EXPECTED = (
    "expected a WordPress post (class entry-content), <article> elements, or <h2> headings inside <main> "
    "or <body>, each followed by paragraphs and dated by a source line ('From the ... Lesson M/D/YY, ...'), "
    "a <time datetime=...> or a 'The Daily Page - DD-MM-YY' heading"
)

Draft = tuple[str, list[Block]]


def read_html_page(html: str, origin: str, repeats: Repeats | None = None) -> Reading:
    """Read a page published as HTML: its excerpts, and every dropped block with its reason.

    Args:
        html: the page, as published (it is sanitised before any text is read).
        origin: where the page came from; recorded on each excerpt and named in errors.
        repeats: lines seen on other pages of the same site; a line on several of them is chrome.

    Raises:
        SourceError: the page holds no dated excerpt.
    """
    dropped: list[Dropped] = []
    post = find_post(html)
    if post is not None:
        found = _post_found(html, post.title, post.entry_html, post.published, origin, dropped, repeats)
        drafts: list[Draft] = [(post.title, [])]
    else:
        root = parse_fragment(html)
        heading_date = _page_heading_date(root)
        _drop_chrome(root, dropped)
        fallback = Fallback(heading_date, DateFrom.PAGE_HEADER) if heading_date else None
        drafts = _drafts(root, dropped)
        found = [item for title, body in drafts
                 if (item := read_entry(title, body, origin, dropped, fallback, repeats)) is not None]
    if found:
        return Reading(origin, without_repeats(found, dropped), tuple(dropped))
    if any(title for title, _ in drafts) and any(d.cause is Cause.UNDATED for d in dropped):
        raise SourceError(origin, f"no excerpt on this page carries a date; {_EXPECTED}")
    raise SourceError(origin, f"no excerpts found: nothing on the page can be told apart from site chrome; "
                      f"{_EXPECTED}")


def parse_html_page(html: str, origin: str) -> list[Excerpt]:
    """The excerpts of a page published as HTML (see `read_html_page`)."""
    return read_html_page(html, origin).excerpts


def _post_found(html: str, title: str, entry_html: str, published: date | None, origin: str,
                dropped: list[Dropped], repeats: Repeats | None) -> list[Found]:
    entry = blocks(parse_fragment(entry_html))
    fallback = Fallback(published, DateFrom.PAGE_HEADER) if published else None
    found = read_entry(title, entry, origin, dropped, fallback, repeats)
    inside = Counter(block.text for block in entry) + Counter([title])
    for block in blocks(parse_fragment(html)):
        if inside[block.text] > 0:
            inside[block.text] -= 1
        else:
            dropped.append(Dropped(block.text, Cause.OUTSIDE, "around the post"))
    return [found] if found else []


def _drafts(root: lxml.html.HtmlElement, dropped: list[Dropped]) -> list[Draft]:
    articles = [a for a in root.iter("article") if not _has_ancestor(a, "article")]
    if not articles:
        main = next(root.iter("main"), root)
        return _split_at_h2(blocks(main), dropped)
    drafts = [_article_draft(blocks(article)) for article in articles]
    for article in articles:
        article.drop_tree()
    dropped.extend(Dropped(block.text, Cause.OUTSIDE, "outside the articles") for block in blocks(root))
    return drafts


def _article_draft(article: list[Block]) -> Draft:
    """Title (the first heading) and body of one article.

    The article's own header and footer hold its title, date and source line, never prose: what
    else they say ("Posted by", "Share") is kept only for the dates it may carry.
    """
    title = next((block for block in article if block.level), None)
    body = [
        block if not block.region or source_line_date(block.text) else replace(block, meta=True)
        for block in article
        if block is not title
    ]
    return (title.text if title else "", body)


def _split_at_h2(page: list[Block], dropped: list[Dropped]) -> list[Draft]:
    """Without <article>s every <h2> opens an excerpt; text before the first one is intro."""
    drafts: list[Draft] = []
    for block in page:
        if block.level == 2 and page_heading_date(block.text) is None:
            drafts.append((block.text, []))
        elif drafts:
            drafts[-1][1].append(block)
        else:
            dropped.append(Dropped(block.text, Cause.CHROME, "page heading" if page_heading_date(block.text)
                                   else "intro"))
    return drafts


def _page_heading_date(root: lxml.html.HtmlElement) -> date | None:
    # Read before chrome is dropped: the heading often sits in the site's <header>.
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag != "br":
            found = page_heading_date(element.text_content())
            if found is not None:
                return found
    return None


def _drop_chrome(root: lxml.html.HtmlElement, dropped: list[Dropped]) -> None:
    doomed = [
        element
        for element in root.iter(*_CHROME, *_PAGE_REGIONS)
        if element.tag in _CHROME or not _has_ancestor(element, "article")
    ]
    outermost = set(doomed)
    for element in doomed:
        if not any(other in outermost for other in element.iterancestors()):
            reason = f"site <{element.tag}>"
            dropped.extend(Dropped(block.text, Cause.CHROME, reason) for block in blocks(element))
        element.drop_tree()  # keeps the tail: text after the element belongs to its parent


def _has_ancestor(element: lxml.html.HtmlElement, tag: str) -> bool:
    return any(ancestor.tag == tag for ancestor in element.iterancestors())
