"""Untrusted HTML to plain text blocks: sanitise with nh3, parse with lxml, flatten inline markup."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import lxml.html
import nh3

from newsletter.content.excerpt import printable

# Structure and text only. Chrome tags (nav, aside, form, header, footer) are kept so that the
# page parser can recognise and drop them; everything else unknown is unwrapped to its text.
_KEEP_TAGS = frozenset({
    "html", "body", "main", "article", "section", "header", "footer", "nav", "aside", "form",
    "div", "p", "blockquote", "pre", "ul", "ol", "li", "dl", "dt", "dd", "figure", "figcaption",
    "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "hr", "br",
    "h1", "h2", "h3", "h4", "h5", "h6", "time", "span", "a", "em", "strong", "b", "i", "u", "s",
    "small", "mark", "q", "cite", "abbr", "sub", "sup", "code", "kbd", "label",
})
# Tags whose text is never prose: executable, styling, document metadata and form widgets.
_DROP_WITH_CONTENT = frozenset({
    "script", "style", "title", "noscript", "template", "iframe", "object", "embed", "svg",
    "math", "canvas", "video", "audio", "textarea", "select", "button", "head",
})

_BLOCK_TAGS = frozenset({
    "html", "body", "main", "article", "section", "header", "footer", "nav", "aside", "form",
    "div", "p", "blockquote", "pre", "ul", "ol", "li", "dl", "dt", "dd", "figure", "figcaption",
    "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6",
})
_HEADING_LEVELS = {f"h{level}": level for level in range(1, 7)}
# A block inside one of these says so, since around an excerpt they hold meta data, not prose.
_REGION_TAGS = frozenset({"header", "footer"})

# Stands in for a <br> while a run of inline text is collected: one is a space, two or more
# in a row (feeds often write paragraphs as text<br><br>text) end a paragraph.
_BREAK = "\u2028"
_PARAGRAPH_BREAK = re.compile(f"{_BREAK}\\s*(?:{_BREAK}\\s*)+")


def clean_html(html: str) -> str:
    """Strip everything but harmless structure and text: no script, style, handlers or attributes."""
    return nh3.clean(
        html,
        tags=set(_KEEP_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes={"time": {"datetime"}},
        link_rel=None,
        strip_comments=True,
    )


def parse_fragment(html: str) -> lxml.html.HtmlElement:
    """Sanitise `html` and parse it under one <div> root (never raises on malformed markup)."""
    # Control characters go first: lxml refuses text that holds one, and no page means them.
    return lxml.html.fragment_fromstring(clean_html(printable(html)), create_parent="div")


@dataclass(frozen=True)
class Block:
    """One block of text in document order: a paragraph, list item, heading or date line."""

    text: str
    level: int = 0  # 1-6 for a heading, 0 for anything else
    region: str = ""  # "header" or "footer" when inside one, else ""
    datetimes: tuple[str, ...] = ()  # datetime attributes of the <time> elements in the block
    meta: bool = False  # carries no prose, only meta data such as a date ("December 28, 2010")


def blocks(root: lxml.html.HtmlElement) -> list[Block]:
    """The text blocks under `root`, inline markup flattened, whitespace collapsed, empties dropped."""
    return list(_walk(root, ""))


def _walk(element: lxml.html.HtmlElement, region: str) -> Iterator[Block]:
    level = _HEADING_LEVELS.get(element.tag, 0)
    if level:
        text = _squash(_inline_text(element).replace(_BREAK, " "))
        if text:
            yield Block(text, level, region, _datetimes(element))
        return
    if element.tag in _REGION_TAGS:
        region = element.tag
    run: list[lxml.html.HtmlElement | str] = [element.text or ""]
    for child in element:
        if not isinstance(child.tag, str):
            pass  # a comment or processing instruction: not text
        elif child.tag in _BLOCK_TAGS:
            yield from _flush(run, region)
            run = []
            yield from _walk(child, region)
        else:
            run.append(child)
        run.append(child.tail or "")
    yield from _flush(run, region)


def _flush(run: list[lxml.html.HtmlElement | str], region: str) -> Iterator[Block]:
    """Turn a run of inline text and elements into one block, or several split at <br><br>."""
    elements = [piece for piece in run if not isinstance(piece, str)]
    loose_text = "".join(piece for piece in run if isinstance(piece, str))
    times = tuple(stamp for element in elements for stamp in _datetimes(element))
    # A run of nothing but <time> elements is a date line, not prose.
    meta = (
        any(element.tag == "time" for element in elements)
        and all(element.tag in ("time", "br") for element in elements)
        and not loose_text.strip()
    )
    pieces = (piece if isinstance(piece, str) else _inline_text(piece) for piece in run)
    for text in _PARAGRAPH_BREAK.split("".join(pieces)):
        squashed = _squash(text.replace(_BREAK, " "))
        if squashed:
            yield Block(squashed, 0, region, times, meta)


def _inline_text(element: lxml.html.HtmlElement) -> str:
    if element.tag == "br":
        return _BREAK
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):
            parts.append(_inline_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _datetimes(element: lxml.html.HtmlElement) -> tuple[str, ...]:
    return tuple(
        stamp for time in element.iter("time") if (stamp := (time.get("datetime") or "").strip())
    )


def _squash(text: str) -> str:
    return " ".join(text.split())
