"""Database calls from async code: run in worker threads, one at a time on SQLite, a few on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, TypeVarTuple, Unpack

import anyio.to_thread
from anyio import CapacityLimiter
from sqlalchemy import Engine

T = TypeVar("T")
Args = TypeVarTuple("Args")
POSTGRES_THREADS = 8


class Blocking:
    """Runs a blocking call off the event loop.

    SQLite takes one writer at a time: a single thread queues writers in the process instead of
    letting them spin on the file lock, which is what keeps the sign-up latency flat under load.
    """

    def __init__(self, engine: Engine) -> None:
        self._threads = 1 if engine.dialect.name == "sqlite" else POSTGRES_THREADS
        self._limiter: CapacityLimiter | None = None

    async def __call__(self, call: Callable[[Unpack[Args]], T], *args: *Args) -> T:
        if self._limiter is None:  # made on first use: a limiter belongs to a running event loop
            self._limiter = CapacityLimiter(self._threads)
        return await anyio.to_thread.run_sync(call, *args, limiter=self._limiter)
