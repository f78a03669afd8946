"""How fast the SMTP transport goes: a rate shared by every connection (and by every process sending one
issue), and a wait before a connection tries again after the server refused it or was down."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass


class SendPacer:
    """Books each send a slot at least 1/rate after the previous one, across all connections; no bursts.

    When `senders` processes share one send (`share`), each takes 1/senders of the rate, so the send as
    a whole keeps to it.
    """

    def __init__(self, rate_per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_second <= 0:
            raise ValueError(f"rate_per_second must be above 0 (got {rate_per_second}); use no limiter")
        self._own_interval = 1.0 / rate_per_second
        self.interval = self._own_interval
        self._clock = clock
        self._next = -math.inf

    def share(self, senders: int) -> None:
        """Take this process's part of the rate when `senders` processes (this one included) share it."""
        self.interval = self._own_interval * max(senders, 1)

    def reserve(self) -> float:
        """Book the next free slot; the seconds until it starts."""
        now = self._clock()
        slot = max(now, self._next)
        self._next = slot + self.interval
        return slot - now

    async def wait(self) -> None:
        """Book a slot and sleep until it starts."""
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass
class _Refusals:
    count: int = 0
    not_before: float = -math.inf


class ConnectionBackoff:
    """Per connection: after the server refused it (421, a failed greeting or login) or could not be
    reached, wait `first` seconds before the next attempt, twice as long after each further failure,
    at most `most`; a message the server accepts starts it over. A server that is down thus sees a few
    attempts a minute from each connection, not thousands."""

    def __init__(self, first: float = 0.5, most: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.first = first
        self.most = most
        self._clock = clock
        self._refusals: dict[int, _Refusals] = {}

    async def wait(self, connection: int) -> None:
        """Sleep until `connection` may try again."""
        delay = self._refusals.get(connection, _Refusals()).not_before - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)

    def failed(self, connection: int) -> None:
        refusals = self._refusals.setdefault(connection, _Refusals())
        refusals.count += 1
        delay = min(self.first * 2 ** (refusals.count - 1), self.most)
        refusals.not_before = self._clock() + delay

    def succeeded(self, connection: int) -> None:
        self._refusals.pop(connection, None)
