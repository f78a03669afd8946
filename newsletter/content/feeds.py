"""Excerpts from an RSS 2.0 or Atom 1.0 feed: one per item or entry."""

from __future__ import annotations

import io
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser

from newsletter.content.excerpt import Excerpt, normalise
from newsletter.content.html_pages import excerpt_from_blocks
from newsletter.content.sanitise import Block, blocks, parse_fragment
from newsletter.errors import SourceError

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def parse_feed(data: bytes, origin: str) -> list[Excerpt]:
    """Parse a feed document into excerpts; items without a title, body or date are skipped.

    Args:
        data: the feed document as bytes; it is parsed, never fetched from.
        origin: where the feed came from; recorded on each excerpt and named in errors.

    Raises:
        SourceError: `data` is not an RSS or Atom feed, or too broken to read any item from.
    """
    # A stream, not bytes: feedparser would try bytes as a file name, and a str as a URL.
    parsed = feedparser.parse(io.BytesIO(data), resolve_relative_uris=False)
    entries: list[Any] = list(parsed.get("entries", []))
    if not entries and parsed.get("bozo"):
        reason = parsed.get("bozo_exception") or "the document is malformed"
        raise SourceError(
            origin, f"cannot be read as an RSS or Atom feed ({reason}); check the URL or file"
        )
    if not entries and not parsed.get("version"):
        raise SourceError(
            origin, "is not an RSS or Atom feed (no <rss>, <feed> or <rdf:RDF> root element)"
        )
    return [
        excerpt for entry in entries if (excerpt := _entry_excerpt(entry, origin)) is not None
    ]


def _entry_excerpt(entry: Any, origin: str) -> Excerpt | None:
    title = _text_of(entry.get("title_detail"), entry.get("title", ""))
    # Some feeds repeat the title as a heading atop the content; it is not body text there.
    body = [block for block in _body_blocks(entry) if normalise(block.text) != normalise(title)]
    return excerpt_from_blocks(title, body, origin, fallback=_entry_date(entry))


def _text_of(detail: Any, value: str) -> str:
    """One line of text from a feed text construct, which may be plain text or HTML."""
    if detail and detail.get("type") in _HTML_TYPES:
        return " ".join(block.text for block in blocks(parse_fragment(value)))
    return " ".join(value.split())


def _body_blocks(entry: Any) -> list[Block]:
    """The item's content if it has any, else its summary (RSS description), as text blocks."""
    candidates = [*entry.get("content", []), entry.get("summary_detail")]
    detail = next((c for c in candidates if c and str(c.get("value", "")).strip()), None)
    if detail is None:
        return []
    value = str(detail["value"])
    if detail.get("type") in _HTML_TYPES:
        return blocks(parse_fragment(value))
    # Plain text: paragraphs are separated by blank lines.
    chunks = (" ".join(chunk.split()) for chunk in value.replace("\r\n", "\n").split("\n\n"))
    return [Block(chunk) for chunk in chunks if chunk]


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
