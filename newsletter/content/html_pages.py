"""Excerpts from a daily page published as HTML: one <article> each, or split at <h2> headings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import lxml.html

from newsletter.content.excerpt import Excerpt, paragraph
from newsletter.content.lesson_dates import page_heading_date, source_line_date
from newsletter.content.sanitise import Block, blocks, parse_fragment
from newsletter.errors import SourceError

# Site chrome: never part of an excerpt. A <header> or <footer> inside an <article> is the
# article's own (title, date, source line) and is read; one outside is the site's.
_CHROME = ("nav", "aside", "form")
_PAGE_REGIONS = ("header", "footer")

_EXPECTED = (
    "expected <article> elements, or <h2> headings inside <main> or <body>, each followed by "
    "paragraphs and dated by a source line ('From the ... Lesson M/D/YY, ...'), "
    "a <time datetime=...> or a 'The Daily Page - DD-MM-YY' heading"
)


def parse_html_page(html: str, origin: str) -> list[Excerpt]:
    """Parse a daily page published as HTML into its excerpts, site chrome dropped.

    Args:
        html: the page, as published (it is sanitised before it is read).
        origin: where the page came from; recorded on each excerpt and named in errors.

    Raises:
        SourceError: the page holds no dated excerpt.
    """
    root = parse_fragment(html)
    heading_date = _page_heading_date(root)
    _drop_chrome(root)
    articles = [a for a in root.iter("article") if not _has_ancestor(a, "article")]
    if articles:
        drafts = [_article_draft(blocks(article)) for article in articles]
    else:
        main = next(root.iter("main"), root)
        drafts = _split_at_h2(blocks(main))
    excerpts = [
        excerpt
        for title, body in drafts
        if (excerpt := excerpt_from_blocks(title, body, origin, heading_date)) is not None
    ]
    if excerpts:
        return excerpts
    if any(title and body for title, body in drafts):
        raise SourceError(origin, f"no excerpt on this page carries a date; {_EXPECTED}")
    raise SourceError(origin, f"no excerpts found; {_EXPECTED}")


def excerpt_from_blocks(
    title: str,
    body: Sequence[Block],
    origin: str,
    fallback: date | None = None,
) -> Excerpt | None:
    """Build an excerpt from a title and body blocks; None without a title, body or date.

    The last source line among the blocks becomes the excerpt's source and its date wins; then
    the first <time datetime> in the blocks; then `fallback`. Meta blocks are not body text.
    """
    texts = [block.text for block in body if not block.meta]
    source_at = next(
        (i for i in reversed(range(len(texts))) if source_line_date(texts[i]) is not None), None
    )
    source = texts.pop(source_at) if source_at is not None else ""
    stamps = [stamp for block in body for stamp in block.datetimes]
    lesson_date = source_line_date(source) or _first_iso_date(stamps) or fallback
    title = " ".join(title.split())
    if not title or not texts or lesson_date is None:
        return None
    return Excerpt(
        title=title,
        lesson_date=lesson_date,
        source=source,
        paragraphs=tuple(paragraph(text) for text in texts),
        origin=origin,
    )


Draft = tuple[str, list[Block]]


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


def _split_at_h2(page: list[Block]) -> list[Draft]:
    """Without <article>s every <h2> opens an excerpt; text before the first one is intro."""
    drafts: list[Draft] = []
    for block in page:
        if block.level == 2 and page_heading_date(block.text) is None:
            drafts.append((block.text, []))
        elif drafts:
            drafts[-1][1].append(block)
    return drafts


def _page_heading_date(root: lxml.html.HtmlElement) -> date | None:
    # Read before chrome is dropped: the heading often sits in the site's <header>.
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag != "br":
            found = page_heading_date(element.text_content())
            if found is not None:
                return found
    return None


def _drop_chrome(root: lxml.html.HtmlElement) -> None:
    doomed = [
        element
        for element in root.iter(*_CHROME, *_PAGE_REGIONS)
        if element.tag in _CHROME or not _has_ancestor(element, "article")
    ]
    for element in doomed:
        element.drop_tree()  # keeps the tail: text after the element belongs to its parent


def _has_ancestor(element: lxml.html.HtmlElement, tag: str) -> bool:
    return any(ancestor.tag == tag for ancestor in element.iterancestors())


def _first_iso_date(stamps: list[str]) -> date | None:
    for stamp in stamps:
        try:
            return date.fromisoformat(stamp[:10])
        except ValueError:
            continue
    return None
