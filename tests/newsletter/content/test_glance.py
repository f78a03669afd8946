"""The excerpts' read-only window (`content/glance.py`, through the driver) answers as the store does."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from newsletter.content import glance
from newsletter.content import store as excerpt_store
from newsletter.content.excerpt import Paragraph, ParagraphKind
from newsletter.db.reader import reading
from newsletter.weeks import IsoWeek
from tests.newsletter.conftest import sample_excerpts

W46, W47, W48 = IsoWeek(2026, 46), IsoWeek(2026, 47), IsoWeek(2026, 48)


def test_a_weeks_excerpts_and_their_hashes_read_as_the_store_gives_them(engine: Engine, database_url: str) -> None:
    week = sample_excerpts()
    # Paragraphs of every kind with labels, text that JSON must escape, and the weeks' edges (Sunday, Monday).
    odd = replace(week[0], title="Quotes \"and\" back\\slashes — ünïcode", lesson_date=date(2026, 11, 22),
                  paragraphs=(Paragraph("Line one\nline two \"quoted\"", ParagraphKind.QUESTION, "Question"),
                              *week[0].paragraphs))
    edge = replace(week[1], title="The next Monday", lesson_date=date(2026, 11, 23))
    with Session(engine) as session, session.begin():
        excerpt_store.add(session, [*week, odd, edge])
    with Session(engine) as session, reading(database_url) as reader:
        for each in (W46, W47, W48):
            assert glance.in_week(reader, each) == excerpt_store.in_week(session, each)
        ids = excerpt_store.ids(session, [week[0], odd])
        assert glance.hashes(reader, ids) == excerpt_store.hashes(session, ids) == {week[0].content_hash,
                                                                                     odd.content_hash}
        assert glance.hashes(reader, []) == set()
        assert len(glance.in_week(reader, W47)) == 6
