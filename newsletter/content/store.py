"""Reading and writing excerpts: insert-once by content hash, and the queries selection needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newsletter.content.excerpt import Excerpt, Paragraph, ParagraphKind
from newsletter.content.tables import ExcerptRow, IssueExcerptRow, IssueRow, utcnow
from newsletter.weeks import IsoWeek


@dataclass(frozen=True)
class Added:
    """What one batch of excerpts did to the store."""

    new: int
    known: int


def _row(excerpt: Excerpt) -> dict[str, Any]:
    return {
        "content_hash": excerpt.content_hash,
        "title": excerpt.title,
        "lesson_date": excerpt.lesson_date,
        "source": excerpt.source,
        "paragraphs": [{"text": p.text, "kind": p.kind.value, "label": p.label}
                       for p in excerpt.paragraphs],
        "origin": excerpt.origin,
    }


def to_excerpt(row: ExcerptRow) -> Excerpt:
    paragraphs = tuple(Paragraph(p["text"], ParagraphKind(p["kind"]), p["label"])
                       for p in row.paragraphs)
    return Excerpt(row.title, row.lesson_date, row.source, paragraphs, row.origin)


def add(session: Session, excerpts: Sequence[Excerpt]) -> Added:
    """Store excerpts not seen before; an excerpt already stored (from any source) is left as it is."""
    unique: dict[str, Excerpt] = {}
    for excerpt in excerpts:
        unique.setdefault(excerpt.content_hash, excerpt)
    if not unique:
        return Added(0, 0)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(ExcerptRow) if dialect == "postgresql" else sqlite.insert(ExcerptRow)
    # ON CONFLICT DO NOTHING keeps two concurrent ingests of the same page from failing each other;
    # RETURNING tells which rows were really new.
    statement = (insert.values([{**_row(e), "ingested_at": utcnow()} for e in unique.values()])
                 .on_conflict_do_nothing(index_elements=["content_hash"])
                 .returning(ExcerptRow.id))
    new = len(session.execute(statement).all())
    return Added(new, len(excerpts) - new)


def in_week(session: Session, week: IsoWeek) -> list[Excerpt]:
    """The week's excerpts by lesson date, then in the order they were first read."""
    rows = session.scalars(
        select(ExcerptRow)
        .where(ExcerptRow.lesson_date.between(week.monday, week.sunday))
        .order_by(ExcerptRow.lesson_date, ExcerptRow.id)
    )
    return [to_excerpt(row) for row in rows]


def sent_before(session: Session, week: IsoWeek) -> set[str]:
    """Content hashes carried by the issues of every other week."""
    return set(session.scalars(
        select(ExcerptRow.content_hash)
        .join(IssueExcerptRow, IssueExcerptRow.excerpt_id == ExcerptRow.id)
        .join(IssueRow, IssueRow.id == IssueExcerptRow.issue_id)
        .where(IssueRow.week != str(week))
    ))


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ExcerptRow)) or 0

