"""Rate limits kept in memory: a sliding-window estimate per key, with a ceiling on how many keys it holds.

Keys are client network prefixes and blind indexes, never addresses; nothing here is written anywhere.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable

# An attacker with many source addresses must not be able to grow the table without end.
MAX_KEYS = 100_000


class RateLimiter:
    """At most `limit` hits per `window` seconds for each key.

    Two fixed windows, the previous one weighted by how much of it still overlaps the sliding window:
    constant memory per key and close to an exact sliding log.
    """

    def __init__(self, limit: int, window: float, *, max_keys: int = MAX_KEYS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._max_keys = max_keys
        self._clock = clock
        self._counts: dict[str, tuple[int, int, int]] = {}  # key -> (window number, current, previous)

    def hit(self, key: str) -> int:
        """Count one request for `key`; 0 when allowed, else the seconds to wait before trying again."""
        now = self._clock()
        number, into = divmod(now, self.window)
        current_window = int(number)
        window_at, current, previous = self._counts.get(key, (current_window, 0, 0))
        if window_at != current_window:
            previous = current if window_at == current_window - 1 else 0
            current = 0
        overlap = 1.0 - into / self.window
        if current + previous * overlap >= self.limit:
            self._store(key, (current_window, current, previous))
            return self._wait(current, previous, into)
        self._store(key, (current_window, current + 1, previous))
        return 0

    def _wait(self, current: int, previous: int, into: float) -> int:
        # Whole seconds, rounded up past the moment the request would pass (at it, it would not yet).
        if current >= self.limit or previous == 0:
            return math.floor(self.window - into) + 1
        # The previous window's weight falls as time passes; wait until it has fallen far enough.
        needed_overlap = (self.limit - current) / previous
        return max(1, math.floor((1.0 - needed_overlap) * self.window - into) + 1)

    def _store(self, key: str, value: tuple[int, int, int]) -> None:
        if key not in self._counts and len(self._counts) >= self._max_keys:
            self._forget_old()
        self._counts[key] = value

    def _forget_old(self) -> None:
        now_window = int(self._clock() // self.window)
        self._counts = {k: v for k, v in self._counts.items() if v[0] >= now_window - 1}
        while len(self._counts) >= self._max_keys:
            # Still full of live keys: drop the oldest entries (dicts keep insertion order).
            del self._counts[next(iter(self._counts))]


def client_key(host: str | None) -> str:
    """The rate-limit key of a client: its IPv4 address, or the /64 an IPv6 host usually owns."""
    if not host:
        return "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
