"""An issue and its state for a command that only looks (`newsletter status`), read through the driver.

`store.py` (issues) and `life.py` (issue_states) own those tables and answer the same questions through
SQLAlchemy; this is their read-only window for a process that has not imported it (`db/reader.py` says
why). `tests/newsletter/issues/test_glance.py` holds the answers together on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from newsletter.db.reader import Reader
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


def _issue(row: tuple[Any, ...]) -> Issue:
    issue_id, week, subject, created_at = row
    return Issue(int(issue_id), str(week), str(subject), _utc(created_at))


def _utc(value: datetime | str) -> datetime:
    """A stored moment in UTC: PostgreSQL gives a datetime, SQLite the text SQLAlchemy wrote (naive UTC)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
