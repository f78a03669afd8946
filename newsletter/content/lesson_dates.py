"""The two dates a daily page prints: the source line's M/D/YY and the page heading's DD-MM-YY."""

from __future__ import annotations

import re
from datetime import date

# "From the 1st part of the Daily Lesson 12/28/10, Letters" -- the line that closes an excerpt.
_SOURCE_LINE = re.compile(r"^From\s+the\s+.{0,120}?\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b")
# "The Daily Page - 28-12-10" -- the page heading.
_PAGE_HEADING = re.compile(r"^The Daily Page\s*[-–—]\s*(\d{1,2})[-./](\d{1,2})[-./](\d{4}|\d{2})\s*$")


def _year(text: str) -> int:
    # Two-digit years follow POSIX strptime: 69-99 are 19xx, 00-68 are 20xx.
    year = int(text)
    if len(text) == 2:
        year += 1900 if year >= 69 else 2000
    return year


def _make(year: str, month: str, day: str) -> date | None:
    try:
        return date(_year(year), int(month), int(day))
    except ValueError:
        return None


def source_line_date(line: str) -> date | None:
    """The lesson date of a source line, or None when the line is not a source line."""
    match = _SOURCE_LINE.match(" ".join(line.split()))
    if match is None:
        return None
    month, day, year = match.groups()
    return _make(year, month, day)


def is_source_line(line: str) -> bool:
    """Whether a line has the shape of a source line, even one whose date is impossible."""
    return _SOURCE_LINE.match(" ".join(line.split())) is not None


def page_heading_date(line: str) -> date | None:
    """The date of a "The Daily Page - DD-MM-YY" heading, or None when the line is not one."""
    match = _PAGE_HEADING.match(" ".join(line.split()))
    if match is None:
        return None
    day, month, year = match.groups()
    return _make(year, month, day)
