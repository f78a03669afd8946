"""The one person a message is personalised for: the subscriber's id, address, unsubscribe URL and the URL
of their own page."""

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
