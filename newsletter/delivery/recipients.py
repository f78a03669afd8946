"""What the pipeline asks of the subscriber side, and nothing more: `subscribers.recipients` implements it.

The sender sees subscriber ids in the ledger and addresses only for the batch it is sending now.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import Select

from newsletter.mail.recipient import Recipient


class Recipients(Protocol):
    """What the sender asks of the subscriber side; `subscribers.recipients` implements it."""

    def confirmed_ids(self) -> Select[int]:
        """The ids of everyone who should get an issue started now (no addresses)."""
        ...

    def for_issue(self, issue_id: int) -> Recipients:
        """The same list, whose recipients carry return addresses that name this issue."""
        ...

    def lookup(self, subscriber_ids: Sequence[int]) -> dict[int, Recipient]:
        """Those of `subscriber_ids` still confirmed, with address and unsubscribe URL."""
        ...

    def mark_bounced(self, subscriber_ids: Sequence[int]) -> None:
        """Suppress subscribers whose address was refused for good."""
        ...
