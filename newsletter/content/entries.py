"""One entry of a web page or feed (a title and its blocks) made into an excerpt, every left-out block named.

The entry is content up to and including its source line: what follows it ("Related Material:", sharing
widgets, comment links) is outside the entry, and so is everything after a trailing widget when the entry
has no source line. Inside, the chrome rules and the site's repeated lines still apply to anything that does
not read as a sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from newsletter.content.chrome import Repeats, chrome_rule
from newsletter.content.excerpt import Excerpt, normalise, paragraph
from newsletter.content.lesson_dates import first_iso_date, is_source_line, source_line_date
from newsletter.content.reading import Cause, DateFrom, Dropped, Found, bare_title
from newsletter.content.sanitise import Block
from newsletter.content.text_pages import is_body

# Widgets that come after an entry's prose: nothing below one of them is the post's own text.
_TRAILING = frozenset({"sharing widget", "related links", "comments", "previous/next links", "read-more link"})


@dataclass(frozen=True)
class Fallback:
    """The date an entry takes when its blocks carry none, and where that date came from."""

    day: date
    source: DateFrom


def read_entry(title: str, body: Sequence[Block], origin: str, dropped: list[Dropped],
               fallback: Fallback | None = None, repeats: Repeats | None = None) -> Found | None:
    """The excerpt of one entry, or None (with the reason in `dropped`) without a title, body or date.

    The last source line among the blocks becomes the excerpt's source and its date wins; then the first
    <time datetime> in the blocks; then `fallback`.
    """
    title = bare_title(title)
    closing = max((i for i, block in enumerate(body) if not block.meta and is_source_line(block.text)), default=-1)
    # A source line closes the entry, and what it closes is the post: the site's repeated lines count only
    # in an entry without one, and not when every line repeats (the same post on two pages of one site).
    texts_of = [block.text for block in body if not block.meta]
    if closing >= 0 or (repeats is not None and all(repeats.repeated(text) for text in texts_of)):
        repeats = None
    texts: list[str] = []
    seen: set[str] = set()
    source = ""
    ended = ""
    for i, block in enumerate(body):
        text = block.text
        if ended:
            dropped.append(Dropped(text, Cause.OUTSIDE, ended))
        elif block.meta:
            dropped.append(Dropped(text, Cause.CHROME, "date or author line"))
        elif i == closing:
            source, ended = text, "after the source line"
        elif normalise(text) == normalise(title):
            dropped.append(Dropped(text, Cause.DUPLICATE, "repeats the title"))
        elif normalise(text) in seen:
            dropped.append(Dropped(text, Cause.DUPLICATE, "repeats an earlier paragraph"))
        elif (rule := chrome_rule(text) if not is_body(text) else ""):
            dropped.append(Dropped(text, Cause.CHROME, rule))
            ended = f"after the {rule}" if rule in _TRAILING else ""
        elif repeats is not None and repeats.repeated(text):
            dropped.append(Dropped(text, Cause.CHROME, f"repeats on {repeats.pages(text)} pages of this site"))
        else:
            texts.append(text)
            seen.add(normalise(text))
    lesson_date, date_from = _lesson_date(source, body, fallback)
    if title and texts and lesson_date is not None:
        excerpt = Excerpt(title=title, lesson_date=lesson_date, source=source,
                          paragraphs=tuple(paragraph(text) for text in texts), origin=origin)
        return Found(excerpt, date_from)
    cause, why = ((Cause.EMPTY, "an entry with no title") if not title else
                  (Cause.EMPTY, "a title with no paragraphs") if not texts else
                  (Cause.UNDATED, "no source line, time or page date to date it"))
    dropped.extend(Dropped(text, cause, why) for text in (title, *texts, source) if text)
    return None


def _lesson_date(source: str, body: Sequence[Block], fallback: Fallback | None) -> tuple[date | None, DateFrom]:
    """The source line's date, else the first <time datetime> among the blocks, else the fallback."""
    from_source = source_line_date(source)
    if from_source is not None:
        return from_source, DateFrom.SOURCE_LINE
    stamp = first_iso_date([stamp for block in body for stamp in block.datetimes])
    if stamp is not None:
        return stamp, DateFrom.TIME_ELEMENT
    if fallback is not None:
        return fallback.day, fallback.source
    return None, DateFrom.SOURCE_LINE
