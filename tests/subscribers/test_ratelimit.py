"""Rate limits: a sliding window per key, a wait that says when to come back, and a bounded table."""

from __future__ import annotations

import pytest

from subscribers.ratelimit import RateLimiter, client_key


class Ticks:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_is_allowed_and_the_next_hit_waits_for_the_window() -> None:
    ticks = Ticks()
    limiter = RateLimiter(3, 60.0, clock=ticks)
    assert [limiter.hit("a") for _ in range(3)] == [0, 0, 0]
    ticks.now += 10
    assert limiter.hit("a") == 11  # 1010 s is 50 s into its window: it ends in 10 s
    ticks.now += 11
    assert limiter.hit("a") == 0
    assert limiter.hit("b") == 0


def test_the_previous_window_still_counts_while_it_overlaps() -> None:
    ticks = Ticks()
    ticks.now = 600.0  # the start of a window
    limiter = RateLimiter(4, 60.0, clock=ticks)
    for _ in range(4):
        limiter.hit("a")
    ticks.now = 660.0 + 15  # a quarter into the next window: 4 * 0.75 = 3 still count
    assert limiter.hit("a") == 0
    assert limiter.hit("a") == 1  # 1 + 4 * (1 - x) < 4 once x passes 1/4 of the window, just ahead
    ticks.now = 660.0 + 31
    assert limiter.hit("a") == 0


def test_the_table_never_holds_more_than_its_ceiling() -> None:
    ticks = Ticks()
    limiter = RateLimiter(1, 60.0, max_keys=100, clock=ticks)
    for n in range(1_000):
        limiter.hit(f"client{n}")
    assert len(limiter) <= 100


@pytest.mark.parametrize(("host", "key"), [
    ("192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"),
    ("testclient", "testclient"),
    (None, "unknown"),
], ids=["ipv4", "ipv6", "same-64", "mapped", "name", "none"])
def test_a_client_is_its_ipv4_address_or_its_ipv6_slash_64(host: str | None, key: str) -> None:
    assert client_key(host) == key


class CountedKey(str):
    """A key that counts how often a table hashes it: the work a lookup, an insert or a rebuild does."""

    hashes = 0

    def __hash__(self) -> int:
        CountedKey.hashes += 1
        return str.__hash__(self)


def test_a_new_key_costs_a_few_steps_even_when_the_table_is_full_of_live_keys() -> None:
    ticks = Ticks()
    limiter = RateLimiter(5, 3600.0, max_keys=100_000, clock=ticks)
    for n in range(100_000):
        limiter.hit(CountedKey(f"live{n}"))
    work = []
    for n in range(50):
        CountedKey.hashes = 0
        limiter.hit(CountedKey(f"new{n}"))
        work.append(CountedKey.hashes)
    assert max(work) <= 8  # a lookup, an eviction, an insert: a handful, never a walk over the others
    assert len(limiter) <= 100_000


def test_keys_of_past_windows_leave_a_few_at_a_time_and_the_ceiling_drops_the_least_recent() -> None:
    ticks = Ticks()
    limiter = RateLimiter(2, 60.0, max_keys=3, clock=ticks)
    for key in ("a", "b", "c"):
        limiter.hit(key)
    limiter.hit("a")  # "a" is now the most recent: "b" is the one to go
    limiter.hit("d")
    assert len(limiter) == 3
    assert limiter.hit("a") == 21  # "a" kept its two hits: 40 s into the window, back in 21 s
    assert limiter.hit("b") == 0  # "b" was forgotten, so it starts again
    ticks.now += 180  # every key is now three windows old
    for n in range(3):
        limiter.hit(f"later{n}")
    assert len(limiter) == 3
