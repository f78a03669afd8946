"""The issues' read-only window (`issues/glance.py`, through the driver) answers as the store and life do."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from newsletter.content import store as excerpt_store
from newsletter.db.reader import reading
from newsletter.issues import edits, glance, life
from newsletter.issues import store as issues
from newsletter.issues.choices import EditorChoices
from newsletter.issues.states import IssueState
from newsletter.issues.tables import IssueRow
from newsletter.weeks import IsoWeek
from tests.newsletter.conftest import sample_excerpts

W46, W47, W48 = IsoWeek(2026, 46), IsoWeek(2026, 47), IsoWeek(2026, 48)
NOW = datetime(2026, 11, 23, 5, 0, 0, 123456, tzinfo=UTC)


def test_an_empty_database_has_no_issue_and_no_state(engine: Engine, database_url: str) -> None:
    with reading(database_url) as reader:
        assert glance.latest(reader) is None
        assert glance.find(reader, W47) is None
        assert glance.state(reader, W47) is None


def test_issues_and_states_read_as_the_store_and_life_give_them(engine: Engine, database_url: str) -> None:
    with Session(engine) as session, session.begin():
        session.add_all([IssueRow(week=str(W47), subject="The forty-seventh — with a dash and ünïcode", created_at=NOW),
                         IssueRow(week=str(W46), subject="The forty-sixth", created_at=NOW)])
        life.move(session, W47, IssueState.DRAFT, by="schedule", reason=None, now=NOW)
        life.move(session, W47, IssueState.HELD, by="ana", reason="a typo", now=NOW)
    with Session(engine) as session, reading(database_url) as reader:
        assert glance.latest(reader) == issues.latest(session)[0]
        for week in (W46, W47, W48):
            assert glance.find(reader, week) == issues.find(session, week)
            status = life.current(session, week)
            assert glance.state(reader, week) == (None if status is None else status.state)
        found = glance.find(reader, W47)
    assert found is not None
    assert found.created_at == NOW


def test_the_editors_choices_and_the_excerpts_sent_elsewhere_read_as_edits_and_the_store_give_them(
        engine: Engine, database_url: str) -> None:
    stored = sample_excerpts()
    with Session(engine) as session, session.begin():
        excerpt_store.add(session, stored)
        ids = excerpt_store.ids(session, stored)
        issues.create(session, W46, "last week", ids[:2], NOW)
        issues.create(session, W47, "this week", ids[2:4], NOW)
        chosen = EditorChoices().pin("a" * 64).exclude("b" * 64)
        edits.save(session, W47, replace(chosen, ordered=("c" * 64,), note="A *note*", subject="Hello"), NOW)
        edits.save(session, W48, replace(chosen, frozen=("d" * 64, "e" * 64)), NOW)
    with Session(engine) as session, reading(database_url) as reader:
        for week in (W46, W47, W48, IsoWeek(2026, 49)):
            assert glance.choices(reader, week) == edits.choices(session, week)
            assert glance.excerpt_ids_sent_outside(reader, week) == issues.excerpt_ids_sent_outside(session, week)
        assert glance.excerpt_ids_sent_outside(reader, W47) == set(ids[:2])
        assert glance.choices(reader, W48).frozen == ("d" * 64, "e" * 64)
