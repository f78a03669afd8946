"""The editor's choices for a week, the one owner of `issue_edits`: excerpts pinned, excluded and put in
order, an editor's note and a subject. Selection reads them as one more input (`selection.select`); the
render puts the note on top and the subject in the header.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from newsletter.issues.tables import IssueEditRow
from newsletter.weeks import IsoWeek


@dataclass(frozen=True)
class EditorChoices:
    """What the editor decided for one week; empty choices change nothing."""

    pinned: tuple[str, ...] = ()      # content hashes kept whatever the policy says (within the week)
    excluded: tuple[str, ...] = ()    # content hashes never kept
    ordered: tuple[str, ...] = ()     # content hashes in the order the issue shows them (the rest follow)
    note: str | None = None           # Markdown, shown on top of the issue
    subject: str | None = None        # the subject line instead of [newsletter] subject
    frozen: tuple[str, ...] | None = None  # the excerpts the draft was frozen with, in order

    def pin(self, content_hash: str) -> EditorChoices:
        return replace(self, pinned=_add(self.pinned, content_hash), excluded=_drop(self.excluded, content_hash))

    def exclude(self, content_hash: str) -> EditorChoices:
        return replace(self, excluded=_add(self.excluded, content_hash), pinned=_drop(self.pinned, content_hash))

    def release(self, content_hash: str) -> EditorChoices:
        """Neither pinned nor excluded: the policy decides again."""
        return replace(self, excluded=_drop(self.excluded, content_hash), pinned=_drop(self.pinned, content_hash))


def _add(hashes: tuple[str, ...], new: str) -> tuple[str, ...]:
    return hashes if new in hashes else (*hashes, new)


def _drop(hashes: tuple[str, ...], gone: str) -> tuple[str, ...]:
    return tuple(h for h in hashes if h != gone)


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
