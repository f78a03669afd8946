"""An issue's life, the one owner of `issue_states` and `issue_events`: draft -> approved -> sending -> sent,
or held, cancelled, skipped; a send can be paused and resumed.

Every move goes through `move`, which checks it against `MOVES` and refuses an illegal one with a
message that says where the issue is and what can be done instead; nothing is written then. A move is
a compare-and-set on the row's `version`, so two people (or a person and a sender on another machine)
moving the same week at once cannot both win: the second one is checked against the state the first left.
States are keyed by week, not by issue row, because a week can be held, skipped or edited before its
issue (and its recipient snapshot) exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from newsletter.db.insert_once import insert_once
from newsletter.db.schema import as_utc
from newsletter.errors import IssueStateError
from newsletter.issues.states import describe
from newsletter.issues.tables import IssueEventRow, IssueState, IssueStateRow
from newsletter.weeks import IsoWeek

State = IssueState

# Where each state may go; `None` is a week nothing has been decided about yet.
MOVES: dict[IssueState | None, frozenset[IssueState]] = {
    None: frozenset({State.DRAFT, State.HELD, State.SENDING, State.CANCELLED, State.SKIPPED}),
    State.DRAFT: frozenset({State.DRAFT, State.APPROVED, State.HELD, State.SENDING, State.CANCELLED, State.SKIPPED}),
    State.APPROVED: frozenset({State.DRAFT, State.HELD, State.SENDING, State.CANCELLED, State.SKIPPED}),
    State.HELD: frozenset({State.DRAFT, State.APPROVED, State.CANCELLED, State.SKIPPED}),
    State.SENDING: frozenset({State.PAUSED, State.SENT, State.CANCELLED}),
    State.PAUSED: frozenset({State.SENDING, State.CANCELLED}),
    State.SENT: frozenset({State.SENDING}),  # deferred rows retried, or rows a late snapshot left
    State.CANCELLED: frozenset(),
    State.SKIPPED: frozenset(),
}
# The states in which nobody may send the issue, and what to say when someone tries.
NOT_SENT = {
    State.HELD: "it is held; `newsletter issue approve` lets it go",
    State.PAUSED: "its send is paused; `newsletter issue resume` continues it",
    State.CANCELLED: "it was cancelled; a cancelled issue is never sent",
    State.SKIPPED: "this week is skipped; a skipped week has no issue",
}
# Before its send starts an issue's content can still change (and is re-rendered); after, never.
EDITABLE = (None, State.DRAFT, State.APPROVED, State.HELD)
_ADVICE = {
    State.DRAFT: "approve, hold, cancel or skip it, or let the send take it",
    State.APPROVED: "hold, cancel or skip it, or let the send take it",
    State.HELD: "approve, cancel or skip it",
    State.SENDING: "pause or cancel it",
    State.PAUSED: "resume or cancel it",
    State.SENT: "nothing is left to change",
    State.CANCELLED: "nothing is left to change",
    State.SKIPPED: "nothing is left to change",
}


@dataclass(frozen=True)
class IssueStatus:
    """Where a week's issue is, and who put it there, when and why."""

    week: str
    state: IssueState
    changed_by: str
    changed_at: datetime
    reason: str | None


def _status(row: IssueStateRow | IssueEventRow) -> IssueStatus:
    return IssueStatus(row.week, row.state, row.changed_by, as_utc(row.changed_at), row.reason)


def current(session: Session, week: IsoWeek) -> IssueStatus | None:
    """The week's state, or None when nothing has been decided about it yet."""
    row = session.get(IssueStateRow, str(week), populate_existing=True)
    return None if row is None else _status(row)


def weeks_in(session: Session, state: IssueState) -> list[IsoWeek]:
    """The weeks whose issue is in `state`, oldest first."""
    return [IsoWeek.parse(week) for week in session.scalars(
        select(IssueStateRow.week).where(IssueStateRow.state == state).order_by(IssueStateRow.week))]


def moves_of(session: Session, week: IsoWeek) -> list[IssueStatus]:
    """Every move of the week's issue, oldest first."""
    return [_status(row) for row in session.scalars(
        select(IssueEventRow).where(IssueEventRow.week == str(week)).order_by(IssueEventRow.id))]


def refusal(week: IsoWeek, status: IssueStatus | None, to: IssueState) -> str | None:
    """Why the issue cannot move to `to` from where it is (one line), or None when it can."""
    here = None if status is None else status.state
    if to in MOVES[here]:
        return None
    if here is None:
        return (f"{week} has no draft yet, so it cannot be {to.value}: "
                f"`newsletter issue freeze --week {week}` makes the draft first")
    return f"{week} is {here.value}, so it cannot be {to.value}: {_ADVICE[here]}"


def move(session: Session, week: IsoWeek, to: IssueState, *, by: str, reason: str | None, now: datetime,
         allowed_from: Iterable[IssueState | None] | None = None) -> IssueStatus:
    """Move the week's issue to `to`, recording who, when and why; IssueStateError (nothing written) when
    the move is not allowed from where it is (or not from one of `allowed_from`, when given)."""
    row = session.get(IssueStateRow, str(week), populate_existing=True)
    status = None if row is None else _status(row)
    here = None if status is None else status.state
    problem = refusal(week, status, to)
    if problem is None and allowed_from is not None and here not in set(allowed_from):
        problem = f"{week} is {describe(here)}, so it cannot be {to.value}: {_advice(here)}"
    if problem is not None:
        raise IssueStateError(str(week), describe(here), problem)
    values = {"state": to, "changed_by": by, "changed_at": now, "reason": reason}
    if row is None:
        won = session.execute(insert_once(session, IssueStateRow, ["week"]).values(week=str(week), version=1, **values)
                              .returning(IssueStateRow.week)).scalar_one_or_none() is not None
    else:
        won = session.execute(update(IssueStateRow)
                              .where(IssueStateRow.week == str(week), IssueStateRow.version == row.version)
                              .values(version=row.version + 1, **values)
                              .returning(IssueStateRow.week)
                              .execution_options(synchronize_session=False)).scalar_one_or_none() is not None
    if not won:
        raise IssueStateError(str(week), describe(here), f"{week} was changed by someone else just now; look "
                              "again with `newsletter issue show` and repeat if it still applies")
    session.execute(insert(IssueEventRow).values(week=str(week), **values))
    return IssueStatus(str(week), to, by, now, reason)


def _advice(state: IssueState | None) -> str:
    return "`newsletter issue freeze` makes its draft" if state is None else _ADVICE[state]


def why_not_sent(status: IssueStatus | None, approval_needed: bool) -> str | None:
    """Why nobody may send the week's issue now (one line), or None: it may be sent."""
    if status is not None and status.state in NOT_SENT:
        said = f" ({status.reason})" if status.reason else ""
        return f"{status.week} is not sent: {NOT_SENT[status.state]}{said}"
    if approval_needed and (status is None or status.state is State.DRAFT):
        week, state = ("the week", None) if status is None else (status.week, status.state)
        return (f'{week} is not sent: [review] mode is "approve" and it is {describe(state)}, not approved; '
                "`newsletter issue approve` lets it go")
    return None
