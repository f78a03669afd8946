"""The draft: the week's issue frozen (selected, rendered, its excerpts fixed) for review, and the editor's
changes to it. A change before the send starts re-freezes the draft, so the next proof shows it; once the
send has started nothing changes the issue's content.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from newsletter.config.settings import Config
from newsletter.content.excerpt import Excerpt
from newsletter.errors import EditError
from newsletter.issues import edits, life
from newsletter.issues.choices import EditorChoices
from newsletter.issues.prepare import PreparedIssue, choose, prepare
from newsletter.issues.tables import IssueState
from newsletter.weeks import IsoWeek

State = IssueState
REFROZEN = (State.DRAFT, State.APPROVED, State.HELD)


def freeze(config: Config, session: Session, week: IsoWeek, *, by: str, now: datetime) -> PreparedIssue:
    """Select the week with the editor's choices, fix its excerpts and make it a draft (a held draft stays
    held; an approved one is a draft again: what was approved has changed). EditError when the week has
    nothing to send or its send has started."""
    status = life.current(session, week)
    here = None if status is None else status.state
    _editable(week, here)
    choices = edits.choices(session, week)
    selection = choose(config, session, week, choices)
    if not selection.kept:
        raise EditError(f"{week} has no excerpts to send (`newsletter excerpts --week {week}` says why); "
                        "ingest that week's pages, or `newsletter issue skip`")
    edits.save(session, week, _frozen(choices, selection.kept), now)
    if here is not State.HELD:
        life.move(session, week, State.DRAFT, by=by, reason=None if here is None else "changed", now=now)
    prepared = prepare(config, session, week)
    assert isinstance(prepared, PreparedIssue)
    return prepared


def _frozen(choices: EditorChoices, kept: tuple[Excerpt, ...]) -> EditorChoices:
    return replace(choices, frozen=tuple(excerpt.content_hash for excerpt in kept))


def edit(config: Config, session: Session, week: IsoWeek, change: Callable[[EditorChoices], EditorChoices], *,
         by: str, now: datetime) -> PreparedIssue | None:
    """Apply one change to the week's choices; when the week has a draft, re-freeze it and return it (for
    a new proof). EditError, nothing changed, once the send has started or the week is over with."""
    status = life.current(session, week)
    here = None if status is None else status.state
    _editable(week, here)
    edits.save(session, week, change(edits.choices(session, week)), now)
    if here in REFROZEN:
        return freeze(config, session, week, by=by, now=now)
    return None


def _editable(week: IsoWeek, here: IssueState | None) -> None:
    if here not in life.EDITABLE:
        raise EditError(f"{week} is {here.value if here else 'not drafted'}: once its send has started (or it "
                        "was cancelled or skipped) its content cannot change")
