"""The issue tables; `newsletter.issues.store` is the only code that reads or writes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.db.schema import Base, utcnow


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
