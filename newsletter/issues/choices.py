"""What the editor decided for one week, as a value: `edits.py` stores it (the owner of `issue_edits`),
`selection.py` reads it as one more input, and `newsletter excerpts` shows it without SQLAlchemy
(`glance.py`)."""

from __future__ import annotations

from dataclasses import dataclass, replace


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
