"""The delivery ledger's table; `newsletter.delivery.ledger` is the only code that reads or writes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.db.schema import Base, str_enum
from newsletter.delivery.states import FINAL_STATES, SEND_OUTCOMES, DeliveryState

__all__ = ["FINAL_STATES", "SEND_OUTCOMES", "DeliveryRow", "DeliveryState"]


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
    # The process that claimed it last, "host/pid/stamp" (`delivery.owners.Owner`); kept once it is done.
    owner: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    code: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("issue_id", "subscriber_id", name="uq_deliveries_issue_id"),
        Index("ix_deliveries_issue_id_state_id", "issue_id", "state", "id"),
        # A reader's rows across every issue: their download, and their erasure.
        Index("ix_deliveries_subscriber_id", "subscriber_id"),
    )
