"""The issue tables. `newsletter.issues.store` owns `issues` and `issue_excerpts`; `newsletter.issues.life`
owns `issue_states` and `issue_events` (where an issue is in its life); `newsletter.issues.edits` owns
`issue_edits` (the editor's choices for a week)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.db.schema import Base, str_enum, utcnow
from newsletter.issues.states import IssueState

__all__ = ["IssueEditRow", "IssueEventRow", "IssueExcerptRow", "IssueRow", "IssueState", "IssueStateRow"]


class IssueRow(Base):
    """A weekly issue; the unique week is what stops a second issue for the same week."""

    __tablename__ = "issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IssueExcerptRow(Base):
    """Which excerpts an issue carries, in order."""

    __tablename__ = "issue_excerpts"

    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"),
                                          primary_key=True)
    excerpt_id: Mapped[int] = mapped_column(ForeignKey("excerpts.id"), primary_key=True)
    position: Mapped[int]


class IssueStateRow(Base):
    """A week's issue state, with who moved it there, when and why; `version` makes each move a compare-and-set."""

    __tablename__ = "issue_states"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    state: Mapped[IssueState] = mapped_column(str_enum(IssueState, "issue_state"))
    changed_by: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)


class IssueEventRow(Base):
    """Every move of a week's issue state, in order: the history `newsletter issue show` prints."""

    __tablename__ = "issue_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8), index=True)
    state: Mapped[IssueState] = mapped_column(str_enum(IssueState, "issue_state"))
    changed_by: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)


class IssueEditRow(Base):
    """The editor's choices for a week (excerpts pinned, excluded and their order, a note, a subject), by
    content hash, and the excerpts its draft was frozen with."""

    __tablename__ = "issue_edits"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    pinned: Mapped[list[Any]] = mapped_column(JSON, default=list)
    excluded: Mapped[list[Any]] = mapped_column(JSON, default=list)
    ordered: Mapped[list[Any]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    # The content hashes the draft was frozen with, in order (None: not frozen yet).
    frozen: Mapped[list[Any] | None] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
