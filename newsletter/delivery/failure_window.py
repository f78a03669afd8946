"""The automatic pause: the share of permanent refusals and of deferrals among a send's latest outcomes.

The breaker (`breaker.py`) stops a send after refusals in an unbroken row; a relay that starts refusing
most, not all, recipients (or deferring them) slips past it, and each of its refusals would be believed
as soon as some other message is accepted. The window sees the mix instead: once `size` outcomes are in
and more than `rate` of them were refused for good, or deferred, the send pauses (the issue becomes
`paused`), so a person looks before the list pays for it.
"""

from __future__ import annotations

from collections import Counter, deque

from newsletter.delivery.tables import DeliveryState


class FailureWindow:
    """The last `size` outcomes of one send, across its workers; counted as they come and go, since
    `add` runs for every message."""

    def __init__(self, size: int, rate: float) -> None:
        self.size = size
        self.rate = rate
        self._seen: deque[DeliveryState] = deque(maxlen=size)
        self._counts: Counter[DeliveryState] = Counter()

    def add(self, state: DeliveryState) -> str | None:
        """Count one outcome (sent, failed or deferred); why the send should pause now, or None."""
        if len(self._seen) == self.size:
            self._counts[self._seen[0]] -= 1  # the oldest leaves the window as this one comes in
        self._seen.append(state)
        self._counts[state] += 1
        if len(self._seen) < self.size:
            return None
        for kind, said in ((DeliveryState.FAILED, "refused for good"), (DeliveryState.DEFERRED, "deferred")):
            share = self._counts[kind] / self.size
            if share > self.rate:
                return (f"{share:.0%} of the last {self.size} messages were {said} (more than "
                        f"[delivery] pause_on_failure_rate = {self.rate:g})")
        return None
