"""The excerpts table's one owner: insert-once by content hash, and the queries selection, issues and the
archive need."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.content.excerpt import Excerpt, Paragraph, ParagraphKind
from newsletter.content.tables import ExcerptRow
from newsletter.db.insert_once import insert_once
from newsletter.db.schema import utcnow
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


def _excerpt(row: ExcerptRow) -> Excerpt:
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
    # ON CONFLICT DO NOTHING keeps two concurrent ingests of the same page from failing each other;
    # RETURNING tells which rows were really new.
    statement = (insert_once(session, ExcerptRow, ["content_hash"])
                 .values([{**_row(e), "ingested_at": utcnow()} for e in unique.values()])
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
    return [_excerpt(row) for row in rows]


def by_ids(session: Session, excerpt_ids: Sequence[int]) -> list[Excerpt]:
    """The excerpts with these ids, in the order of `excerpt_ids` (unknown ids are left out)."""
    rows = {row.id: row for row in session.scalars(select(ExcerptRow).where(ExcerptRow.id.in_(list(excerpt_ids))))}
    return [_excerpt(rows[i]) for i in excerpt_ids if i in rows]


def ids(session: Session, excerpts: Sequence[Excerpt]) -> list[int]:
    """The stored ids of `excerpts`, in their order; every one of them must be stored."""
    found = dict(session.execute(select(ExcerptRow.content_hash, ExcerptRow.id).where(
        ExcerptRow.content_hash.in_([e.content_hash for e in excerpts]))).all())
    return [found[e.content_hash] for e in excerpts]


def by_hashes(session: Session, content_hashes: Sequence[str]) -> list[Excerpt]:
    """The excerpts with these content hashes, in the order given (unknown ones are left out)."""
    rows = {row.content_hash: row for row in session.scalars(
        select(ExcerptRow).where(ExcerptRow.content_hash.in_(list(content_hashes))))}
    return [_excerpt(rows[h]) for h in content_hashes if h in rows]


def with_key(session: Session, key: str) -> list[Excerpt]:
    """The excerpts whose content hash starts with `key` (the short key `newsletter excerpts` shows)."""
    pattern = key.lower().replace("%", "").replace("_", "") + "%"
    return [_excerpt(row) for row in session.scalars(
        select(ExcerptRow).where(ExcerptRow.content_hash.like(pattern)).order_by(ExcerptRow.id).limit(2))]


def hashes(session: Session, excerpt_ids: Iterable[int]) -> set[str]:
    """The content hashes of the excerpts with these ids."""
    return set(session.scalars(select(ExcerptRow.content_hash).where(ExcerptRow.id.in_(list(excerpt_ids)))))


def titles(session: Session, excerpt_ids: Iterable[int]) -> dict[int, str]:
    """Each excerpt's title by id."""
    return dict(session.execute(select(ExcerptRow.id, ExcerptRow.title)
                                .where(ExcerptRow.id.in_(list(excerpt_ids)))).all())


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ExcerptRow)) or 0

