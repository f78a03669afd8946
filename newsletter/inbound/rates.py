"""Bounce and complaint rates of an issue, from its ledger, and the ceilings above which `newsletter run`
warns: mailbox providers start filtering a sender past about 0.3% complaints (Gmail's published
ceiling) and treat a few percent of bounces as a list that is not kept clean."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from newsletter.delivery.states import DeliveryState

COMPLAINT_CEILING = 0.001  # warn above 0.1%: a third of the way to where filtering starts
BOUNCE_CEILING = 0.03      # warn above 3%


@dataclass(frozen=True)
class Rates:
    """Of the messages that left (sent, then maybe bounced or complained of, or refused), how many came back."""

    delivered: int
    bounced: int
    complained: int

    @property
    def bounce_rate(self) -> float:
        return self.bounced / self.delivered if self.delivered else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complained / self.delivered if self.delivered else 0.0

    def warnings(self) -> list[str]:
        """What is above its ceiling, in words for the log; [] when nothing is."""
        found = []
        if self.complaint_rate > COMPLAINT_CEILING:
            found.append(f"complaints at {self.complaint_rate:.2%} ({self.complained} of {self.delivered}) are above "
                         f"{COMPLAINT_CEILING:.1%}: mailbox providers start filtering near 0.3%; check that every "
                         "reader opted in and that the unsubscribe link is easy to find")
        if self.bounce_rate > BOUNCE_CEILING:
            found.append(f"bounces at {self.bounce_rate:.2%} ({self.bounced} of {self.delivered}) are above "
                         f"{BOUNCE_CEILING:.0%}: the list holds dead addresses; an imported list may need cleaning")
        return found


def rates(states: Mapping[DeliveryState, int]) -> Rates:
    """The rates of one issue from its rows per state (`ledger.counts`)."""
    bounced = states.get(DeliveryState.BOUNCED, 0) + states.get(DeliveryState.FAILED, 0)
    complained = states.get(DeliveryState.COMPLAINED, 0)
    delivered = states.get(DeliveryState.SENT, 0) + bounced + complained
    return Rates(delivered, bounced, complained)
