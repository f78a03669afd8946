"""An issue's life: the moves it may make, the ones it may not, and who moved it when and why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from newsletter.errors import IssueStateError
from newsletter.issues import life
from newsletter.issues.tables import IssueState
from newsletter.weeks import IsoWeek

WEEK = IsoWeek(2026, 47)
NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
State = IssueState


def walk(engine: Engine, *states: IssueState) -> None:
    with Session(engine) as session, session.begin():
        for state in states:
            life.move(session, WEEK, state, by="editor", reason=None, now=NOW)


def test_every_move_is_kept_with_who_when_and_why(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        life.move(session, WEEK, State.DRAFT, by="schedule", reason=None, now=NOW)
        life.move(session, WEEK, State.HELD, by="ana", reason="a typo in the note", now=NOW)
    with Session(engine) as session:
        status = life.current(session, WEEK)
        assert status is not None
        assert (status.state, status.changed_by, status.reason) == (State.HELD, "ana", "a typo in the note")
        assert [m.state for m in life.moves_of(session, WEEK)] == [State.DRAFT, State.HELD]


@pytest.mark.parametrize(("path", "to", "said"), [
    ((State.CANCELLED,), State.APPROVED, "is cancelled, so it cannot be approved: nothing is left to change"),
    ((State.SENDING, State.SENT), State.PAUSED, "is sent, so it cannot be paused"),
    ((State.SKIPPED,), State.DRAFT, "is skipped, so it cannot be draft"),
    ((), State.APPROVED, "has no draft yet, so it cannot be approved"),
    ((State.DRAFT,), State.PAUSED, "is draft, so it cannot be paused: approve, hold"),
], ids=["approve-cancelled", "pause-sent", "redraft-skipped", "approve-undrafted", "pause-draft"])
def test_an_illegal_move_says_why_and_changes_nothing(engine: Engine, path: tuple[IssueState, ...],
                                                       to: IssueState, said: str) -> None:
    walk(engine, *path)
    with Session(engine) as session, session.begin(), pytest.raises(IssueStateError, match=said):
        life.move(session, WEEK, to, by="editor", reason=None, now=NOW)
    with Session(engine) as session:
        status = life.current(session, WEEK)
        assert (status.state if status else None) == (path[-1] if path else None)
        assert len(life.moves_of(session, WEEK)) == len(path)


def test_resume_is_only_for_a_paused_send(engine: Engine) -> None:
    walk(engine, State.DRAFT)
    with Session(engine) as session, session.begin(), pytest.raises(IssueStateError, match="is draft"):
        life.move(session, WEEK, State.SENDING, by="editor", reason=None, now=NOW, allowed_from=(State.PAUSED,))


def test_a_move_made_on_a_stale_reading_loses(engine: Engine) -> None:
    walk(engine, State.DRAFT)
    with Session(engine) as first, Session(engine) as second:
        life.current(first, WEEK)
        assert life.current(second, WEEK) is not None
        life.move(first, WEEK, State.HELD, by="ana", reason=None, now=NOW)
        first.commit()
        # The second editor read "draft" too; their move is checked against "held", which allows approve.
        life.move(second, WEEK, State.APPROVED, by="ben", reason=None, now=NOW)
        second.commit()
    with Session(engine) as session:
        assert [m.changed_by for m in life.moves_of(session, WEEK)] == ["editor", "ana", "ben"]


@pytest.mark.parametrize(("path", "approval", "sendable"), [
    ((), False, True), ((), True, False), ((State.DRAFT,), True, False), ((State.DRAFT, State.APPROVED), True, True),
    ((State.HELD,), False, False), ((State.CANCELLED,), False, False), ((State.SKIPPED,), False, False),
    ((State.DRAFT, State.SENDING, State.PAUSED), False, False), ((State.DRAFT, State.SENDING), True, True),
], ids=["auto-undrafted", "approve-undrafted", "approve-draft", "approve-approved", "held", "cancelled", "skipped",
        "paused", "approve-sending"])
def test_who_may_send_depends_on_the_state_and_the_mode(engine: Engine, path: tuple[IssueState, ...],
                                                        approval: bool, sendable: bool) -> None:
    walk(engine, *path)
    with Session(engine) as session:
        assert (life.why_not_sent(life.current(session, WEEK), approval) is None) is sendable
