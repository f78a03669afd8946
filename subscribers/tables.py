"""Tables of the subscriber side: subscribers (no address in clear), sign-ups waiting for the worker, and
the transactional outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.db.schema import Base, as_utc, str_enum, utcnow
from subscribers.states import SUPPRESSED, MailState, Status

__all__ = ["SUPPRESSED", "ConsentEventRow", "KeyCheckRow", "MailState", "OutboxRow", "SignupRow", "Status",
           "SubscriberRow", "as_utc", "utcnow"]


class SubscriberRow(Base):
    """One address: found by its blind index, readable only with the key, wiped on unsubscribe."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    blind_index: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[Status] = mapped_column(str_enum(Status, "subscriber_status"))
    # Changes whenever a subscription starts again, so tokens from an earlier one stop working.
    nonce: Mapped[str] = mapped_column(String(16))
    consent_form: Mapped[str] = mapped_column(String(32))
    consent_text_version: Mapped[str] = mapped_column(String(32))
    consent_note: Mapped[str | None] = mapped_column(Text)
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_up_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    mailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    bounced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The reader paused the newsletter: no issue is sent before this moment; after it, as before.
    paused_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A new address the reader asked for, sealed under its own blind index; in force once confirmed.
    new_address: Mapped[bytes | None] = mapped_column(LargeBinary)
    new_blind_index: Mapped[str | None] = mapped_column(String(64))
    change_mailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    # AUTOINCREMENT: SQLite would otherwise give an erased subscriber's id to the next sign-up.
    __table_args__ = (Index("ix_subscribers_status_id", "status", "id"), {"sqlite_autoincrement": True})


class SignupRow(Base):
    """One sign-up as the form posted it, until the worker acts on it (seconds later): sealed, like every
    stored address, under the blind index its subscriber row has or will have."""

    __tablename__ = "signups"

    id: Mapped[int] = mapped_column(primary_key=True)
    blind_index: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[bytes] = mapped_column(LargeBinary)
    consent_form: Mapped[str] = mapped_column(String(32))
    consent_text_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutboxRow(Base):
    """One transactional email to send; it holds no message, only whom it is for and how it went."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[MailState] = mapped_column(str_enum(MailState, "mail_state"))
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),)


class KeyCheckRow(Base):
    """The one row that says which key seals the list: a value derived from it, never the key itself."""

    __tablename__ = "key_check"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1: one list, one key
    check_value: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConsentEventRow(Base):
    """One thing a reader did on their own page (pause, unsubscribe, ...) and when; never an IP address."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
