"""Parse a plain-text daily page into excerpts, dropping the site chrome around them."""

from __future__ import annotations

import re
from datetime import date

from newsletter.content.excerpt import Excerpt, ParagraphKind, paragraph
from newsletter.content.lesson_dates import is_source_line, page_heading_date, source_line_date
from newsletter.errors import SourceError

NO_EXCERPTS = (
    "no excerpts found: expected a title, paragraphs, and a closing line like "
    "'From the 1st part of the Daily Lesson 12/28/10, ...'"
)

# Prose ends its sentence; a title does not (though it may end in "?").
_SENTENCE_END = re.compile(r"[.!…][\"'”’)\]]*$")
_TITLE_MAX_WORDS = 12


def _squash(text: str) -> str:
    return " ".join(text.split())


def _blocks(text: str) -> list[str]:
    """Blank-line separated blocks, hard-wrapped lines joined; a source line starts its own block."""
    blocks: list[str] = []
    current: list[str] = []
    for line in text.lstrip("\ufeff").splitlines():
        if current and (not line.strip() or is_source_line(line)):
            blocks.append(_squash(" ".join(current)))
            current = []
        if line.strip():
            current.append(line)
    if current:
        blocks.append(_squash(" ".join(current)))
    return blocks


def _is_body(block: str) -> bool:
    """Whether a block reads as a body paragraph rather than a title or a chrome line."""
    if paragraph(block).kind is not ParagraphKind.TEXT:
        return True
    return len(block.split()) > _TITLE_MAX_WORDS or _SENTENCE_END.search(block) is not None


def _title_index(blocks: list[str], start: int, end: int) -> int:
    """Where the first excerpt begins: the title-like block right before the first body paragraph."""
    for i in range(start, end - 1):
        if not _is_body(blocks[i]) and _is_body(blocks[i + 1]):
            return i
    return start


def _excerpt(body: list[str], source: str, fallback: date | None, origin: str) -> Excerpt:
    lesson_date = source_line_date(source) or fallback
    if lesson_date is None:
        raise SourceError(
            origin,
            f"cannot read the date in {source!r} and the page has no "
            "'The Daily Page - DD-MM-YY' heading: write the lesson date as M/D/YY",
        )
    title, *paragraphs = body
    return Excerpt(
        title=title,
        lesson_date=lesson_date,
        source=source,
        paragraphs=tuple(paragraph(text) for text in paragraphs),
        origin=origin,
    )


def parse_text_page(text: str, origin: str) -> list[Excerpt]:
    """Read the excerpts of one daily page given as text; `origin` names it in excerpts and errors.

    An excerpt is a title, its paragraphs and a closing source line whose M/D/YY date is the lesson
    date (the page heading's date when that one is unreadable). Everything before the first title
    (header, heading, intro) and after the last source line (sign-up box, footer) is chrome.
    """
    blocks = _blocks(text)
    ends = [i for i, block in enumerate(blocks) if is_source_line(block)]
    if not ends:
        raise SourceError(origin, NO_EXCERPTS)
    headings = [i for i in range(ends[0]) if page_heading_date(blocks[i]) is not None]
    fallback = page_heading_date(blocks[headings[0]]) if headings else None
    first = _title_index(blocks, headings[0] + 1 if headings else 0, ends[0])
    starts = [first, *(end + 1 for end in ends[:-1])]
    excerpts = [
        _excerpt(blocks[start:end], blocks[end], fallback, origin)
        for start, end in zip(starts, ends, strict=True)
        # A title with no paragraphs is not an excerpt worth sending.
        if end - start >= 2
    ]
    if not excerpts:
        raise SourceError(origin, NO_EXCERPTS)
    return excerpts
