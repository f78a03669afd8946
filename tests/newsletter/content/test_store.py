"""The excerpt store on SQLite and PostgreSQL: each excerpt once, weeks, and what was sent."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from newsletter.content import store as excerpt_store
from newsletter.content.excerpt import Excerpt, paragraph
from newsletter.content.tables import ExcerptRow
from newsletter.issues import store as issues
from newsletter.issues.tables import IssueExcerptRow, IssueRow
from newsletter.weeks import IsoWeek

W47 = IsoWeek(2026, 47)


def excerpt(title: str, day: date, origin: str = "page.txt") -> Excerpt:
    return Excerpt(title, day, f"From the 1st part of the Daily Lesson {day:%m/%d/%y}",
                   (paragraph("Question: Who keeps the lamp lit?"), paragraph("Answer: Whoever is awake.")),
                   origin)


def test_an_excerpt_is_stored_once_whatever_its_origin(engine: Engine) -> None:
    first = excerpt("Lamp", date(2026, 11, 16), "page.txt")
    with Session(engine) as session, session.begin():
        assert excerpt_store.add(session, [first, excerpt("Lamp", date(2026, 11, 16), "feed.xml")]) == \
            excerpt_store.Added(new=1, known=1)
    with Session(engine) as session, session.begin():
        assert excerpt_store.add(session, [excerpt("Lamp", date(2026, 11, 16), "web.html")]) == \
            excerpt_store.Added(new=0, known=1)
    with Session(engine) as session:
        assert excerpt_store.count(session) == 1
        assert excerpt_store.in_week(session, W47) == [first]


def test_a_stored_excerpt_reads_back_with_its_structure(engine: Engine) -> None:
    original = excerpt("Lamp", date(2026, 11, 16))
    with Session(engine) as session, session.begin():
        excerpt_store.add(session, [original])
    with Session(engine) as session:
        [back] = excerpt_store.in_week(session, W47)
    assert back == original
    assert [p.label for p in back.paragraphs] == ["Question", "Answer"]


def test_a_week_holds_its_excerpts_by_date_then_in_reading_order(engine: Engine) -> None:
    excerpts = [excerpt("Sunday", date(2026, 11, 22)), excerpt("Monday b", date(2026, 11, 16)),
                excerpt("Before", date(2026, 11, 15)), excerpt("Monday a", date(2026, 11, 16)),
                excerpt("After", date(2026, 11, 23))]
    with Session(engine) as session, session.begin():
        excerpt_store.add(session, excerpts)
    with Session(engine) as session:
        assert [e.title for e in excerpt_store.in_week(session, W47)] == ["Monday b", "Monday a", "Sunday"]


def test_excerpts_sent_in_other_weeks_issues_count_as_sent(engine: Engine) -> None:
    old, current = excerpt("Old", date(2026, 11, 9)), excerpt("Current", date(2026, 11, 16))
    with Session(engine) as session, session.begin():
        excerpt_store.add(session, [old, current])
        ids = dict(session.query(ExcerptRow.title, ExcerptRow.id).all())
        for week, title in [("2026-W46", "Old"), ("2026-W47", "Current")]:
            issue_id = session.execute(insert(IssueRow).values(week=week, subject="s")
                                       .returning(IssueRow.id)).scalar_one()
            session.execute(insert(IssueExcerptRow).values(issue_id=issue_id, excerpt_id=ids[title],
                                                           position=0))
    with Session(engine) as session:
        # This week's own issue does not hide its excerpts from a re-run of the same week.
        assert issues.hashes_sent_outside(session, W47) == {old.content_hash}


def test_a_batch_with_a_repeated_excerpt_keeps_the_first_in_reading_order(engine: Engine) -> None:
    a, b = excerpt("A", date(2026, 11, 16), "one"), excerpt("B", date(2026, 11, 16))
    with Session(engine) as session, session.begin():
        excerpt_store.add(session, [a, b, excerpt("A", date(2026, 11, 16), "two")])
    with Session(engine) as session:
        assert [(e.title, e.origin) for e in excerpt_store.in_week(session, W47)] == [("A", "one"),
                                                                                       ("B", "page.txt")]
