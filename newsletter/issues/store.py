"""The issue tables' one owner: an issue per ISO week, created once, with the excerpts it carries in order.

Everything else asks here: the ledger's snapshot needs the issue's id, the archive its list, a resumed
send the excerpts it started with. Rows leave this module as `Issue` values, never as ORM objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from newsletter.content import store as excerpts
from newsletter.content.excerpt import Excerpt
from newsletter.db.insert_once import insert_once
from newsletter.db.schema import as_utc
from newsletter.issues.issue import Issue
from newsletter.issues.tables import IssueExcerptRow, IssueRow
from newsletter.weeks import IsoWeek


def _issue(row: IssueRow) -> Issue:
    return Issue(row.id, row.week, row.subject, as_utc(row.created_at))


def find(session: Session, week: IsoWeek) -> Issue | None:
    row = session.scalars(select(IssueRow).where(IssueRow.week == str(week))).one_or_none()
    return None if row is None else _issue(row)


def latest(session: Session, limit: int | None = 1) -> list[Issue]:
    """The newest `limit` issues (all when None), newest week first."""
    return [_issue(row) for row in session.scalars(select(IssueRow).order_by(IssueRow.week.desc()).limit(limit))]


def create(session: Session, week: IsoWeek, subject: str, excerpt_ids: Sequence[int],
           now: datetime) -> tuple[Issue, bool]:
    """The week's issue, created with its excerpts if it does not exist yet; returns (issue, created).

    The week is unique, so of two processes creating the same week at once one creates it and the
    other waits for that transaction and then finds it: never two issues.
    """
    created = session.execute(
        insert_once(session, IssueRow, ["week"]).values(week=str(week), subject=subject, created_at=now)
        .returning(IssueRow.id)
    ).scalar_one_or_none()
    if created is None:
        issue = find(session, week)
        assert issue is not None
        return issue, False
    session.execute(insert(IssueExcerptRow), [
        {"issue_id": created, "excerpt_id": excerpt_id, "position": position}
        for position, excerpt_id in enumerate(excerpt_ids)
    ])
    return Issue(created, str(week), subject, as_utc(now)), True


def excerpt_ids(session: Session, issue_id: int) -> list[int]:
    """The ids of the excerpts an issue carries, in order."""
    return list(session.scalars(select(IssueExcerptRow.excerpt_id).where(IssueExcerptRow.issue_id == issue_id)
                                .order_by(IssueExcerptRow.position)))


def excerpt_ids_by_issue(session: Session, issue_ids: Sequence[int]) -> dict[int, list[int]]:
    """For each of `issue_ids`, the ids of its excerpts in order (for the archive's list)."""
    found: dict[int, list[int]] = {issue_id: [] for issue_id in issue_ids}
    rows = session.execute(select(IssueExcerptRow.issue_id, IssueExcerptRow.excerpt_id)
                           .where(IssueExcerptRow.issue_id.in_(list(issue_ids)))
                           .order_by(IssueExcerptRow.issue_id, IssueExcerptRow.position))
    for issue_id, excerpt_id in rows:
        found[issue_id].append(excerpt_id)
    return found


def excerpt_ids_sent_outside(session: Session, week: IsoWeek) -> set[int]:
    """Ids of the excerpts carried by the issues of every other week."""
    return set(session.scalars(
        select(IssueExcerptRow.excerpt_id)
        .join(IssueRow, IssueRow.id == IssueExcerptRow.issue_id)
        .where(IssueRow.week != str(week))))


def weeks(session: Session, issue_ids: Sequence[int]) -> list[IsoWeek]:
    """The weeks of `issue_ids`, oldest first."""
    return [IsoWeek.parse(week) for week in session.scalars(
        select(IssueRow.week).where(IssueRow.id.in_(list(issue_ids))).order_by(IssueRow.week))]


def weeks_by_id(session: Session, issue_ids: Sequence[int]) -> dict[int, IsoWeek]:
    """The week of each of `issue_ids` that exists."""
    return {issue_id: IsoWeek.parse(week) for issue_id, week in session.execute(
        select(IssueRow.id, IssueRow.week).where(IssueRow.id.in_(list(issue_ids)))).all()}


def hashes_sent_outside(session: Session, week: IsoWeek) -> set[str]:
    """Content hashes of the excerpts carried by the issues of every other week (selection skips them)."""
    return excerpts.hashes(session, excerpt_ids_sent_outside(session, week))


def excerpts_of(session: Session, issue_id: int) -> list[Excerpt]:
    """The excerpts an issue carries, in order: a resumed send renders exactly what it started with."""
    return excerpts.by_ids(session, excerpt_ids(session, issue_id))
