"""The one person a message is personalised for: the subscriber's id, address, unsubscribe URL and, when
`[bounces] domain` is set, the message's own return addresses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Recipient:
    """One subscriber as the sender sees them: the id, the address, and their own unsubscribe URL."""

    subscriber_id: int
    address: str
    unsubscribe_url: str
    envelope_sender: str = ""      # the message's bounce address (VERP); empty: from_address
    unsubscribe_mailto: str = ""   # the List-Unsubscribe mailto's address; empty: from_address
