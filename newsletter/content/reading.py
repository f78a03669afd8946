"""One model of a page for every format: its blocks, each classified with a reason, and the excerpts they make.

Every parser (text pages, HTML pages, feeds) ends in the same place: a `Reading`, which holds the excerpts
found, where each one's date came from, and every block that was dropped and why. Ingest stores the
excerpts; `newsletter ingest --explain` prints the rest.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from newsletter.content.excerpt import Excerpt


class Role(enum.StrEnum):
    """What a block of a page is."""

    TITLE = "title"
    BODY = "body"
    SOURCE = "source"
    CHROME = "chrome"


class Cause(enum.StrEnum):
    """Why a block was dropped (the words `--explain` prints)."""

    CHROME = "chrome"
    DUPLICATE = "duplicate"
    OUTSIDE = "outside the entry"
    EMPTY = "empty"
    UNDATED = "no date"
    NOT_CHOSEN = "category not chosen"


class DateFrom(enum.StrEnum):
    """Where an excerpt's lesson date was read."""

    SOURCE_LINE = "source line"
    PAGE_HEADER = "page header"
    TIME_ELEMENT = "time element"
    FEED_ITEM = "feed item"


@dataclass(frozen=True)
class Dropped:
    """A block that is in no excerpt: its text, the cause and the rule or signal that decided it."""

    text: str
    cause: Cause
    reason: str


@dataclass(frozen=True)
class Found:
    """An excerpt, and where its lesson date came from."""

    excerpt: Excerpt
    date_from: DateFrom


@dataclass(frozen=True)
class Reading:
    """What one document gave: its excerpts in page order and the blocks left out of them."""

    origin: str
    found: tuple[Found, ...] = ()
    dropped: tuple[Dropped, ...] = field(default=())

    @property
    def excerpts(self) -> list[Excerpt]:
        return [item.excerpt for item in self.found]


def without_repeats(found: Iterable[Found], dropped: list[Dropped]) -> tuple[Found, ...]:
    """Keep the first of excerpts with the same words; the later ones go to `dropped` as duplicates."""
    seen: set[str] = set()
    kept: list[Found] = []
    for item in found:
        if item.excerpt.content_hash in seen:
            dropped.append(Dropped(item.excerpt.title, Cause.DUPLICATE, "the same excerpt appears earlier"))
            continue
        seen.add(item.excerpt.content_hash)
        kept.append(item)
    return tuple(kept)


def bare_title(title: str) -> str:
    """A title as the excerpt keeps it: one the page wraps in typographic quotes (“The Door”) without them."""
    title = " ".join(title.split())
    if title.startswith("“") and title.endswith("”") and "”" not in title[1:-1]:
        return title[1:-1].strip()
    return title
