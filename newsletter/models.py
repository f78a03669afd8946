"""Tables of the content side: excerpts, and the weekly issues that used them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.database import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class ExcerptRow(Base):
    """One stored excerpt; `content_hash` makes the same words from any source one row."""

    __tablename__ = "excerpts"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)
    lesson_date: Mapped[date] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(Text)
    paragraphs: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    origin: Mapped[str] = mapped_column(Text)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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
