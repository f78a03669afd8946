"""The one person a message is personalised for: the subscriber's id, address and unsubscribe URL."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Recipient:
    """One subscriber as the sender sees them: the id, the address, and their own unsubscribe URL."""

    subscriber_id: int
    address: str
    unsubscribe_url: str
