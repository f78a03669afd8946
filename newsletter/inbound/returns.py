"""What the inbound stage asks of the subscriber side, and nothing more: `subscribers.returns` implements it.

A return address names a subscriber only through a signed token, which the subscriber side alone can
read; the inbound stage gets back ids, never an address, and asks for the subscription to be ended.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


class Target(enum.StrEnum):
    ISSUE = "issue"                # the bounce address of an issue's message
    CONFIRMATION = "confirmation"  # the bounce address of a confirmation email
    UNSUBSCRIBE = "unsubscribe"    # a List-Unsubscribe mailto


class Ending(enum.StrEnum):
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"


@dataclass(frozen=True)
class Addressee:
    """Whom a genuine return address names: a subscription, and the issue for an issue's bounce address."""

    target: Target
    subscriber_id: int
    issue_id: int | None
    subscription: str  # opaque: the token's mark of the subscription, handed back to `end`


class Returns(Protocol):
    """Reads return addresses and ends subscriptions; raises ReturnedMailError for an address not ours."""

    def identify(self, address: str) -> Addressee:
        """Whom `address` names; ReturnedMailError when it is forged, altered, expired or not ours."""
        ...

    def end(self, addressee: Addressee, ending: Ending) -> bool:
        """End that subscription (if it is still the one the token names); whether anything changed."""
        ...
