"""The lines a daily page dates itself with: source lines (M/D/YY) and the page heading (DD-MM-YY).

A source line closes an excerpt: `From the 1st part of the Daily Lesson 12/28/10, Letters`, or in the
short-form pages `-from the 1st part of the Daily Lesson 8/04/10 (minutes 38-50)`, which may have no date
at all (`-from the 2nd part of the daily lesson (minutes 7-38)`) and may go on on the next line
(`and from the 2nd part (minutes 7-38)`). The page heading names the page's kind and its date:
`The Daily Page - 28-12-10`, `Daily Study Bites - 04-08-10`.
"""

from __future__ import annotations

import re
from datetime import date

_DASH = r"(?:[-–—]\s*)?"
# "From the 1st part of the Daily Lesson 12/28/10, Letters" -- dated, in any case, dash or not.
_DATED = re.compile(_DASH + r"from\s+the\s+.{0,120}?\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b", re.IGNORECASE)
# "-from the 1st part of the daily lesson (minutes 12-15)" -- no date, but the shape says it all.
_UNDATED = re.compile(_DASH + r"from\s+the\s+\S+\s+part\s+of\s+the\s+[^.!?]{0,100}\blesson\b[^.!?]*",
                      re.IGNORECASE)
# "and from the 2nd part (minutes 7-38)" -- the rest of a source line, on a line of its own.
_CONTINUATION = re.compile(r"(?:and|&)\s+from\s+the\s+[^.!?]{0,120}", re.IGNORECASE)
# "The Daily Page - 28-12-10", "Daily Study Bites – 04-08-10" -- the page heading: a kind and a date.
_PAGE_HEADING = re.compile(r"(?P<kind>[^\W\d][^\d\n]{2,60}?)\s*[-–—]\s*(\d{1,2})[-./](\d{1,2})[-./](\d{4}|\d{2})")


def _squash(text: str) -> str:
    return " ".join(text.split())


def _year(text: str) -> int:
    # Two-digit years follow POSIX strptime: 69-99 are 19xx, 00-68 are 20xx.
    year = int(text)
    if len(text) == 2:
        year += 1900 if year >= 69 else 2000
    return year


def made(year: str, month: str, day: str) -> date | None:
    try:
        return date(_year(year), int(month), int(day))
    except ValueError:
        return None


def source_line_date(line: str) -> date | None:
    """The lesson date of a source line, or None when the line is not a dated source line."""
    match = _DATED.match(_squash(line))
    if match is None:
        return None
    month, day, year = match.groups()
    return made(year, month, day)


def is_source_line(line: str) -> bool:
    """Whether a line has the shape of a source line: dated (even impossibly) or in the undated short form."""
    squashed = _squash(line)
    return _DATED.match(squashed) is not None or _UNDATED.fullmatch(squashed) is not None


def continues_source_line(line: str) -> bool:
    """Whether a line is the rest of the source line above it ("and from the 2nd part (minutes 7-38)")."""
    return _CONTINUATION.fullmatch(_squash(line)) is not None


def page_heading_date(line: str) -> date | None:
    """The date of a page heading ("The Daily Page - DD-MM-YY"), or None when the line is not one."""
    match = _PAGE_HEADING.fullmatch(_squash(line))
    if match is None:
        return None
    day, month, year = match.groups()[1:]
    return made(year, month, day)


def page_kind(line: str) -> str:
    """The kind a page heading names ("The Daily Page"), or "" when the line is not a page heading."""
    match = _PAGE_HEADING.fullmatch(_squash(line))
    return match["kind"].strip() if match is not None and page_heading_date(line) else ""


def first_iso_date(stamps: list[str]) -> date | None:
    """The date of the first ISO 8601 timestamp that has one (a <time datetime>, a post's published date)."""
    for stamp in stamps:
        try:
            return date.fromisoformat(stamp.strip()[:10])
        except ValueError:
            continue
    return None
