"""The issues' read-only window (`issues/glance.py`, through the driver) answers as the store and life do."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from newsletter.db.reader import reading
from newsletter.issues import glance, life
from newsletter.issues import store as issues
from newsletter.issues.states import IssueState
from newsletter.issues.tables import IssueRow
from newsletter.weeks import IsoWeek

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
