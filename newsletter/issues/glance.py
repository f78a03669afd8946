"""Issues, their states and the editor's choices for the commands that only look (`newsletter status`,
`newsletter excerpts`), read through the driver.

`store.py` (issues, issue_excerpts), `life.py` (issue_states) and `edits.py` (issue_edits) own those
tables and answer the same questions through SQLAlchemy; this is their read-only window for a process
that has not imported it (`db/reader.py` says why). `tests/newsletter/issues/test_glance.py` holds the
answers together on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from newsletter.db.reader import Reader, json_value, moment
from newsletter.issues.choices import EditorChoices
from newsletter.issues.issue import Issue
from newsletter.issues.states import IssueState
from newsletter.weeks import IsoWeek

_ISSUE = "SELECT id, week, subject, created_at FROM issues"


def find(reader: Reader, week: IsoWeek) -> Issue | None:
    rows = reader.rows(f"{_ISSUE} WHERE week = :week", week=str(week))
    return _issue(rows[0]) if rows else None


def latest(reader: Reader) -> Issue | None:
    """The newest issue, or None when there is none."""
    rows = reader.rows(f"{_ISSUE} ORDER BY week DESC LIMIT 1")
    return _issue(rows[0]) if rows else None


def state(reader: Reader, week: IsoWeek) -> IssueState | None:
    """The week's state, or None when nothing has been decided about it yet."""
    found = reader.scalar("SELECT state FROM issue_states WHERE week = :week", week=str(week))
    return None if found is None else IssueState(found)


def excerpt_ids_sent_outside(reader: Reader, week: IsoWeek) -> set[int]:
    """Ids of the excerpts carried by the issues of every other week."""
    return {int(found) for (found,) in reader.rows(
        "SELECT issue_excerpts.excerpt_id FROM issue_excerpts JOIN issues ON issues.id = issue_excerpts.issue_id"
        " WHERE issues.week != :week", week=str(week))}


def choices(reader: Reader, week: IsoWeek) -> EditorChoices:
    """The week's choices (empty when the editor made none)."""
    rows = reader.rows("SELECT pinned, excluded, ordered, note, subject, frozen FROM issue_edits WHERE week = :week",
                       week=str(week))
    if not rows:
        return EditorChoices()
    pinned, excluded, ordered, note, subject, frozen = rows[0]
    frozen_list = json_value(frozen)
    return EditorChoices(tuple(json_value(pinned)), tuple(json_value(excluded)), tuple(json_value(ordered)), note,
                         subject, None if frozen_list is None else tuple(frozen_list))


def _issue(row: tuple[Any, ...]) -> Issue:
    issue_id, week, subject, created_at = row
    return Issue(int(issue_id), str(week), str(subject), moment(created_at))
