"""A week's excerpts for a command that only looks (`newsletter excerpts`), read through the driver.

`store.py` owns the excerpts table and answers the same through SQLAlchemy; this is its read-only window
for a process that has not imported it (`db/reader.py` says why). `tests/newsletter/content/test_glance.py`
holds the answers together on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from newsletter.content.excerpt import Excerpt, Paragraph, ParagraphKind
from newsletter.db.reader import Reader, day, json_value
from newsletter.weeks import IsoWeek


def in_week(reader: Reader, week: IsoWeek) -> list[Excerpt]:
    """The week's excerpts by lesson date, then in the order they were first read."""
    rows = reader.rows("SELECT title, lesson_date, source, paragraphs, origin FROM excerpts"
                       " WHERE lesson_date BETWEEN :monday AND :sunday ORDER BY lesson_date, id",
                       monday=week.monday, sunday=week.sunday)
    return [_excerpt(*row) for row in rows]


def hashes(reader: Reader, excerpt_ids: Iterable[int]) -> set[str]:
    """The content hashes of the excerpts with these ids."""
    wanted = tuple(excerpt_ids)
    if not wanted:
        return set()
    return {str(found) for (found,) in reader.rows("SELECT content_hash FROM excerpts WHERE id IN :ids", ids=wanted)}


def _excerpt(title: str, lesson_date: date | str, source: str, paragraphs: Any, origin: str) -> Excerpt:
    return Excerpt(title, day(lesson_date), source,
                   tuple(Paragraph(p["text"], ParagraphKind(p["kind"]), p["label"]) for p in json_value(paragraphs)),
                   origin)
