"""The event loop the commands run on: uvloop's where it is installed, asyncio's own otherwise.

Why uvloop: a send is CPU-bound on loopback or a fast relay, and a good share of that CPU is the loop's
own work per message (callbacks, timers, readiness of four sockets, buffering). uvloop (MagicStack's,
on libuv) does it in C: a 10,000-message send on loopback (the set-up of `bench/send_whole.py`) took
2.29 s instead of 2.49 s, with 0.12 s less CPU, the two alternated over 5 rounds. It is also the loop
uvicorn itself picks when present, so the sign-up endpoint and the bare endpoint it is benchmarked
against run on the same loop.

It is a dependency wherever it builds (not on Windows): there the commands run on asyncio's loop,
which behaves the same, more slowly. Nothing in the project depends on which loop it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to completion on a new event loop (like `asyncio.run`), closing the loop after."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory, or None (asyncio's default loop) where uvloop is not installed."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
