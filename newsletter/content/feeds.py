"""Excerpts from an RSS 2.0 or Atom 1.0 feed: one per item or entry.

WordPress feeds are read as they are published: `content:encoded` (an image link opening the first
paragraph, a "Related Material:" block after the source line) is preferred to the teaser `description`
("... […]", which alone is not the post and is left out), titles escaped twice (`Doesn&amp;#8217;t`) are
unescaped once more, media enclosures are named and left out, and `[ingest] categories` keeps only the
items in the chosen categories (default: all). Each item is a page of the feed's site, so a line that
recurs across items is chrome.
"""

from __future__ import annotations

import html
import io
import re
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser

from newsletter.content.chrome import Repeats
from newsletter.content.entries import Fallback, read_entry
from newsletter.content.excerpt import Excerpt, normalise
from newsletter.content.reading import Cause, DateFrom, Dropped, Found, Reading, without_repeats
from newsletter.content.sanitise import Block, blocks, parse_fragment
from newsletter.errors import SourceError

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# An entity still standing after one round of unescaping: the publisher escaped it twice.
_LEFT_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# WordPress ends a teaser description with "[…]" or "[...]": it is the post's start, not the post.
_TEASER_END = re.compile(r"\[(?:…|\.\.\.)\]\s*$")


def read_feed(data: bytes, origin: str, categories: frozenset[str] = frozenset()) -> Reading:
    """Read a feed document: one excerpt per item, and every left-out item or block with its reason.

    Args:
        data: the feed document as bytes; it is parsed, never fetched from.
        origin: where the feed came from; recorded on each excerpt and named in errors.
        categories: keep only items in one of these categories (compared without case); empty keeps all.

    Raises:
        SourceError: `data` is not an RSS or Atom feed, or too broken to read any item from.
    """
    # A stream, not bytes: feedparser would try bytes as a file name, and a str as a URL.
    try:
        parsed = feedparser.parse(io.BytesIO(data), resolve_relative_uris=False)
    except (ValueError, LookupError, TypeError) as error:  # feedparser's own slips on hostile bytes
        raise SourceError(origin, f"cannot be read as an RSS or Atom feed ({type(error).__name__}); "
                          "check the URL or file") from None
    entries: list[Any] = list(parsed.get("entries", []))
    if not entries and parsed.get("bozo"):
        reason = parsed.get("bozo_exception") or "the document is malformed"
        raise SourceError(origin, f"cannot be read as an RSS or Atom feed ({reason}); check the URL or file")
    if not entries and not parsed.get("version"):
        raise SourceError(origin, "is not an RSS or Atom feed (no <rss>, <feed> or <rdf:RDF> root element)")
    dropped: list[Dropped] = []
    chosen = {normalise(name) for name in categories}
    items = []
    for entry in entries:
        title = _text_of(entry.get("title_detail"), str(entry.get("title", "")))
        terms = {normalise(str(tag.get("term") or "")) for tag in entry.get("tags") or []}
        if chosen and not chosen & terms:
            dropped.append(Dropped(title, Cause.NOT_CHOSEN, "in none of the [ingest] categories"))
            continue
        dropped.extend(Dropped(str(e.get("href") or ""), Cause.OUTSIDE, f"media enclosure ({e.get('type') or '?'})")
                       for e in entry.get("enclosures") or [])
        items.append((entry, title, _body_blocks(entry, dropped)))
    repeats = Repeats()
    for n, (_, _, body) in enumerate(items):
        repeats.learn(str(n), (block.text for block in body))
    found: list[Found] = []
    for entry, title, body in items:
        day = _entry_date(entry)
        fallback = Fallback(day, DateFrom.FEED_ITEM) if day else None
        if (item := read_entry(title, body, origin, dropped, fallback, repeats)) is not None:
            found.append(item)
    return Reading(origin, without_repeats(found, dropped), tuple(dropped))


def parse_feed(data: bytes, origin: str) -> list[Excerpt]:
    """The excerpts of a feed document, every item kept (see `read_feed`)."""
    return read_feed(data, origin).excerpts


def _text_of(detail: Any, value: str) -> str:
    """One line of text from a feed text construct, which may be plain text or HTML."""
    if detail and detail.get("type") in _HTML_TYPES:
        value = " ".join(block.text for block in blocks(parse_fragment(value)))
    return _unescaped(" ".join(value.split()))


def _unescaped(text: str) -> str:
    """Text whose entities were escaped twice (`Doesn&amp;#8217;t`), unescaped the second time."""
    return " ".join(html.unescape(text).split()) if _LEFT_ENTITY.search(text) else text


def _body_blocks(entry: Any, dropped: list[Dropped]) -> list[Block]:
    """The item's content if it has any, else its summary (RSS description), as text blocks."""
    summary = entry.get("summary_detail")
    candidates = [*(entry.get("content") or []), summary]
    detail = next((c for c in candidates if c and str(c.get("value", "")).strip()), None)
    if detail is None:
        return []
    value = str(detail["value"])
    if detail.get("type") in _HTML_TYPES:
        found = blocks(parse_fragment(value))
    else:
        # Plain text: paragraphs are separated by blank lines.
        chunks = (" ".join(chunk.split()) for chunk in value.replace("\r\n", "\n").split("\n\n"))
        found = [Block(chunk) for chunk in chunks if chunk]
    found = [Block(_unescaped(b.text), b.level, b.region, b.datetimes, b.meta) for b in found]
    if found and detail is summary and _TEASER_END.search(found[-1].text):
        dropped.extend(Dropped(b.text, Cause.OUTSIDE, "a teaser ending in […]: the full post is elsewhere")
                       for b in found)
        return []
    return found


def _entry_date(entry: Any) -> date | None:
    """The item's published (else updated) date, as the feed wrote it (not shifted to UTC)."""
    for key in ("published", "updated"):
        raw = str(entry.get(key) or "").strip()
        if not raw:
            continue
        written = _written_date(raw)
        if written is not None:
            return written
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            return date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday)
    return None


def _written_date(raw: str) -> date | None:
    """The calendar date of an RFC 822 (RSS) or ISO 8601 (Atom) timestamp, in its own offset."""
    try:
        return parsedate_to_datetime(raw).date()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return datetime.fromisoformat(raw).date()
    except ValueError:
        return None
