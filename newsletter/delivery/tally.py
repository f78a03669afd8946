"""What one run of a send did: each row it touched counted once, at its latest outcome."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TypeVar

from newsletter.delivery.ledger import Outcome
from newsletter.delivery.tables import DeliveryState

T = TypeVar("T")
State = DeliveryState


@dataclass
class Tally:
    """What this run did to the rows it touched, each counted once at its latest outcome, and the reasons
    for the failures and deferrals among them."""

    states: Counter[DeliveryState] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    _deferred: dict[int, str | None] = field(default_factory=dict, repr=False)  # row -> its counted reason

    def add(self, outcome: Outcome) -> bool:
        """Count a row's latest outcome; whether the row is new to this run."""
        new = outcome.delivery_id not in self._deferred
        if not new:  # deferred earlier in this run, tried again: it moves, it is not counted twice
            _take(self.states, State.DEFERRED)
            reason = self._deferred.pop(outcome.delivery_id)
            if reason:
                _take(self.reasons, reason)
        self.states[outcome.state] += 1
        counted = outcome.reason if outcome.state in (State.FAILED, State.DEFERRED) else None
        if counted:
            self.reasons[counted] += 1
        if outcome.state is State.DEFERRED:
            self._deferred[outcome.delivery_id] = counted
        return new


def _take(counter: Counter[T], key: T) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
