"""The excerpts table; `newsletter.content.store` is the only code that reads or writes it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.db.schema import Base, utcnow


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
