"""The table of returned mail; `newsletter.inbound.store` is the only code that reads or writes it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.db.schema import Base, str_enum


class Handling(enum.StrEnum):
    """What became of one returned message."""

    BOUNCED = "bounced"            # a permanent bounce: the subscriber is suppressed
    SOFT_BOUNCE = "soft-bounce"    # a temporary one, counted towards [bounces] soft_limit
    COMPLAINED = "complained"      # a complaint (ARF): the subscriber is suppressed
    UNSUBSCRIBED = "unsubscribed"  # mail to an unsubscribe address
    CANCELLED = "cancelled"        # a confirmation email bounced: the sign-up is cancelled
    AUTO_REPLY = "auto-reply"      # ignored, counted
    OTHER = "other"                # none of these: ignored, counted
    REFUSED = "refused"            # a forged, altered or expired token, or a message we never sent


class ReturnRow(Base):
    """One returned message as it was handled: no address, no message, only what was done and why."""

    __tablename__ = "returned_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the message: the same message handled twice (a retry, a copy) counts once.
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    handling: Mapped[Handling] = mapped_column(str_enum(Handling, "return_handling"))
    subscriber_id: Mapped[int | None]
    issue_id: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(Text)  # redacted
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_returned_mail_subscriber_id_handling", "subscriber_id", "handling", "received_at"),)
