"""A subscriber's status and a confirmation email's state, apart from their tables:
`newsletter subscribers stats` counts them without importing SQLAlchemy (`subscribers/glance.py`)."""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"  # reported an issue as spam: suppressed like an unsubscribe


# The consent form of a row `subscribers suppress` made: no consent, no address.
SUPPRESSION_FORM = "suppression"
SUPPRESSED = (Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED)


class MailState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # the subscriber confirmed, left or was erased before it went out
