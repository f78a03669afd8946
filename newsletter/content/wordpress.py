"""A WordPress single post page: its title, its date and its entry, found by the classes WordPress writes.

Why lxml and class names rather than a boilerplate remover: WordPress themes mark the post itself
(`entry-content`, `entry-title`, `<time class="entry-date">`), so where the entry starts is written in
the page and need not be guessed. Tried on the blog post of tests/corpus, trafilatura 2.3 kept the
"Related Material:" links as content (the entry's end, its source line, is ours to find anyway), and
jusText 3.0 got that page right but says only "boilerplate" about a block, never which rule or signal,
which `--explain` must; both need lxml_html_clean and trafilatura four more packages besides. lxml is
already the parser under the sanitiser, so this adds no dependency. Every block outside the entry is
dropped with that reason, and the entry's own end is found by the rules every format shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import lxml.etree
import lxml.html

from newsletter.content.lesson_dates import first_iso_date
from newsletter.content.sanitise import blocks, parse_fragment

_ENTRY_CLASSES = ("entry-content", "post-content", "entry-body", "post-entry")
_TITLE_CLASSES = ("entry-title", "post-title")
_POST_CLASSES = ("hentry", "type-post", "post")


@dataclass(frozen=True)
class Post:
    """The parts of a single post page: the entry is still untrusted HTML, to be sanitised when read."""

    title: str
    published: date | None
    entry_html: str


def _with_class(names: tuple[str, ...]) -> str:
    tests = (f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')" for name in names)
    return "[" + " or ".join(tests) + "]"


def _elements(node: lxml.html.HtmlElement, path: str) -> list[lxml.html.HtmlElement]:
    found = node.xpath(path)
    return [item for item in found if isinstance(item, lxml.html.HtmlElement)] if isinstance(found, list) else []


def find_post(html: str) -> Post | None:
    """The post of a WordPress single post page, or None when the page is not one (no single entry)."""
    try:
        document = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return None
    entries = _elements(document, "//*" + _with_class(_ENTRY_CLASSES))
    if len(entries) != 1:
        return None  # an archive or home page lists many posts: the page parser reads its articles
    entry = entries[0]
    scope = next((a for a in entry.iterancestors() if a.tag == "article" or _elements(a, "self::*" + _with_class(
        _POST_CLASSES))), document)
    titles = _elements(scope, ".//*" + _with_class(_TITLE_CLASSES)) or _elements(document, "//h1")
    title = _text(titles[0]) if titles else ""
    stamps = [t.get("datetime", "") for t in _elements(scope, ".//time[@datetime]")
              if entry not in t.iterancestors()]
    return Post(title, first_iso_date(stamps), lxml.html.tostring(entry, encoding="unicode", with_tail=False))


def _text(element: lxml.html.HtmlElement) -> str:
    markup = lxml.html.tostring(element, encoding="unicode", with_tail=False)
    return " ".join(block.text for block in blocks(parse_fragment(markup)))
