"""The one person a message is personalised for: the subscriber's id, address, unsubscribe URL, the URL
of their own page and, when `[bounces] domain` is set, the message's own return addresses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Recipient:
    """One subscriber as the sender sees them: the id, the address, and their own unsubscribe and manage URLs.

    `manage_url` empty (a preview, a test send) means the page without a token, which only explains
    where the reader's own link is.
    """

    subscriber_id: int
    address: str
    unsubscribe_url: str
    manage_url: str = ""
    envelope_sender: str = ""      # the message's bounce address (VERP); empty: from_address
    unsubscribe_mailto: str = ""   # the List-Unsubscribe mailto's address; empty: from_address
