"""The editor's choices for a week, the one owner of `issue_edits`: excerpts pinned, excluded and put in
order, an editor's note and a subject. Selection reads them as one more input (`selection.select`); the
render puts the note on top and the subject in the header.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from newsletter.issues.choices import EditorChoices
from newsletter.issues.tables import IssueEditRow
from newsletter.weeks import IsoWeek


def choices(session: Session, week: IsoWeek) -> EditorChoices:
    """The week's choices (empty when the editor made none)."""
    row = session.get(IssueEditRow, str(week), populate_existing=True)
    if row is None:
        return EditorChoices()
    return EditorChoices(tuple(row.pinned), tuple(row.excluded), tuple(row.ordered), row.note, row.subject,
                         None if row.frozen is None else tuple(row.frozen))


def save(session: Session, week: IsoWeek, chosen: EditorChoices, now: datetime) -> None:
    """Store the week's choices, replacing what was there."""
    row = session.get(IssueEditRow, str(week))
    if row is None:
        row = IssueEditRow(week=str(week))
        session.add(row)
    row.pinned, row.excluded, row.ordered = list(chosen.pinned), list(chosen.excluded), list(chosen.ordered)
    row.note, row.subject, row.changed_at = chosen.note, chosen.subject, now
    row.frozen = None if chosen.frozen is None else list(chosen.frozen)
    session.flush()
