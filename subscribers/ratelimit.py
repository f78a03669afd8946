"""Rate limits kept in memory: a sliding-window estimate per key, with a ceiling on how many keys it holds.

Keys are client network prefixes and blind indexes, never addresses; nothing here is written anywhere.
Every hit costs a few dictionary steps however many keys are held: the table is kept in the order keys
were last hit, so the stale ones are at its front and leave from there.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable

# An attacker with many source addresses must not be able to grow the table without end.
MAX_KEYS = 100_000
# Stale keys forgotten per hit: more than the one key a hit can add, so the table never fills with them.
EXPIRE_PER_HIT = 2


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
        # key -> (window number, current, previous), least recently hit first
        self._counts: OrderedDict[str, tuple[int, int, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._counts)

    def hit(self, key: str) -> int:
        """Count one request for `key`; 0 when allowed, else the seconds to wait before trying again."""
        now = self._clock()
        number, into = divmod(now, self.window)
        current_window = int(number)
        self._expire(current_window)
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
        counts = self._counts
        if key in counts:
            counts.move_to_end(key)
        elif len(counts) >= self._max_keys:
            counts.popitem(last=False)  # full of live keys: the one hit least recently goes
        counts[key] = value

    def _expire(self, current_window: int) -> None:
        # A key last hit two windows ago counts for nothing; the front of the table holds the oldest.
        counts = self._counts
        for _ in range(EXPIRE_PER_HIT):
            if not counts:
                return
            key, (window_at, _, _) = next(iter(counts.items()))
            if window_at >= current_window - 1:
                return
            del counts[key]


class MailboxLimits:
    """Sign-ups an hour per mailbox and per domain, applied where a confirmation email is decided.

    `name+anything@domain` is one mailbox with `name@domain`, so sub-addresses cannot multiply one
    person's emails. Keys are `key(...)` of the mailbox and the domain (an HMAC), never the text.
    """

    def __init__(self, per_mailbox: int, per_domain: int, *, key: Callable[[str], str],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._mailboxes = RateLimiter(per_mailbox, 3600.0, clock=clock)
        self._domains = RateLimiter(per_domain, 3600.0, clock=clock)
        self._key = key

    def admit(self, address: str) -> bool:
        """Count one sign-up of `address`; False when its mailbox or its domain has had its share."""
        local, _, domain = address.rpartition("@")
        domain = domain.lower()
        mailbox = local.split("+", 1)[0].lower()
        if self._mailboxes.hit(self._key(f"mailbox:{mailbox}@{domain}")):
            return False
        # Only sign-ups their mailbox let through count for the domain: one flooded mailbox must not use
        # up a whole domain's share.
        return self._domains.hit(self._key(f"domain:{domain}")) == 0


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
