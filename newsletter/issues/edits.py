"""The editor's choices for a week, the one owner of `issue_edits`: excerpts pinned, excluded and put in
order, an editor's note and a subject. Selection reads them as one more input (`selection.select`); the
render puts the note on top and the subject in the header.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import Session

from newsletter.issues.tables import IssueEditRow
from newsletter.weeks import IsoWeek


@dataclass(frozen=True)
class EditorChoices:
    """What the editor decided for one week; empty choices change nothing."""

    pinned: tuple[int, ...] = ()      # excerpt ids kept whatever the policy says (within the week)
    excluded: tuple[int, ...] = ()    # excerpt ids never kept
    ordered: tuple[int, ...] = ()     # excerpt ids in the order the issue shows them (the rest follow)
    note: str | None = None           # Markdown, shown on top of the issue
    subject: str | None = None        # the subject line instead of [newsletter] subject
    changed: tuple[str, ...] = field(default=(), compare=False)

    def pin(self, excerpt_id: int) -> EditorChoices:
        return replace(self, pinned=_add(self.pinned, excerpt_id), excluded=_drop(self.excluded, excerpt_id))

    def exclude(self, excerpt_id: int) -> EditorChoices:
        return replace(self, excluded=_add(self.excluded, excerpt_id), pinned=_drop(self.pinned, excerpt_id))


def _add(ids: tuple[int, ...], new: int) -> tuple[int, ...]:
    return ids if new in ids else (*ids, new)


def _drop(ids: tuple[int, ...], gone: int) -> tuple[int, ...]:
    return tuple(i for i in ids if i != gone)


def choices(session: Session, week: IsoWeek) -> EditorChoices:
    """The week's choices (empty when the editor made none)."""
    row = session.get(IssueEditRow, str(week), populate_existing=True)
    if row is None:
        return EditorChoices()
    return EditorChoices(tuple(row.pinned), tuple(row.excluded), tuple(row.ordered), row.note, row.subject)


def save(session: Session, week: IsoWeek, chosen: EditorChoices, now: datetime) -> None:
    """Store the week's choices, replacing what was there."""
    row = session.get(IssueEditRow, str(week))
    if row is None:
        row = IssueEditRow(week=str(week))
        session.add(row)
    row.pinned, row.excluded, row.ordered = list(chosen.pinned), list(chosen.excluded), list(chosen.ordered)
    row.note, row.subject, row.changed_at = chosen.note, chosen.subject, now
    session.flush()
