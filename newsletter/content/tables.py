"""Tables of the pipeline: excerpts, the weekly issues that carry them, and the delivery ledger."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.db.engine import Base, str_enum


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime: SQLite hands times back without their zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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


class DeliveryState(enum.StrEnum):
    PENDING = "pending"      # snapshotted, not tried yet
    SENDING = "sending"      # claimed by a worker until lease_until
    SENT = "sent"            # the server accepted it
    DEFERRED = "deferred"    # a temporary failure; tried again at next_attempt_at
    FAILED = "failed"        # refused for good (5xx), or deferred for longer than give_up_after
    SKIPPED = "skipped"      # unsubscribed, bounced or erased before it was sent


FINAL_STATES = (DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.SKIPPED)


class DeliveryRow(Base):
    """One recipient of one issue: the ledger that makes a send resumable and countable.

    It holds the subscriber's id only; the address is asked of `subscribers` when the row is sent.
    """

    __tablename__ = "deliveries"

    # BIGINT for lists of millions over many issues; SQLite needs INTEGER to number rows itself.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int]
    state: Mapped[DeliveryState] = mapped_column(str_enum(DeliveryState, "delivery_state"))
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    code: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("issue_id", "subscriber_id", name="uq_deliveries_issue_id"),
        Index("ix_deliveries_issue_id_state_id", "issue_id", "state", "id"),
    )
