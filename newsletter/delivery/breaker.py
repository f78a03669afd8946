"""The circuit breaker of a send: permanent refusals are held back until the relay shows it delivers.

A relay that refuses every message (after DATA, say, for a reason it does not tell) looks, message by
message, like a list of dead addresses; bouncing them would suppress the whole list. So a refusal is
only believed once a later message is accepted, later meaning begun after the refusal came back: a
message another connection had under way when the relay turned proves nothing. Until then the breaker
holds it, and after
`[delivery] refusals_in_a_row` of them in a row it trips, the send stops, and the held rows are handed
back untried for a later run. Refusals still held when a send ends normally are believed.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.delivery.ledger import Claim, Outcome


@dataclass(frozen=True)
class Refusal:
    """A permanent refusal not yet believed: the row, and what the server said."""

    claim: Claim
    outcome: Outcome
    at: int  # when it came back, on the send's clock of events (`Sender` counts messages begun and refused)


class RefusalBreaker:
    """Counts permanent refusals in a row across every worker of one send."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held: list[Refusal] = []

    def refused(self, claim: Claim, outcome: Outcome, at: int = 0) -> bool:
        """Hold a refusal back; whether this one makes `limit` in a row (the breaker trips)."""
        self.held.append(Refusal(claim, outcome, at))
        return len(self.held) >= self.limit

    def accepted(self, began: int | None = None) -> list[Refusal]:
        """A message begun at `began` was accepted: the refusals held that came back before it began were
        about their recipients. Returns them (all held ones when `began` is None: the send ended)."""
        believed = [r for r in self.held if began is None or r.at < began]
        self.held = [r for r in self.held if r not in believed]
        return believed

    def reason(self) -> str:
        """Why the breaker tripped, for the person who runs the send."""
        last = self.held[-1].outcome if self.held else None
        said = f" (the last: {last.reason})" if last is not None and last.reason else ""
        return (f"{len(self.held)} messages in a row were refused for good{said}; that looks like the relay, "
                "not the readers")
