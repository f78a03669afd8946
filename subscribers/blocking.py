"""Database calls from async code: run in long-lived threads, one on SQLite, a few on PostgreSQL.

Every sign-up batch, and every step of the outbox worker, is one such call, so the hand-off is on the
sign-up path: a call is one put on a queue the threads wait on, and one wake-up of the event loop when
it is done. (anyio's `to_thread.run_sync`, used before, costs several times that per call in
bookkeeping: a cancel scope, a capacity limiter, a Python-level queue per worker thread.)
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar, TypeVarTuple, Unpack

from sqlalchemy import Engine

T = TypeVar("T")
Args = TypeVarTuple("Args")
POSTGRES_THREADS = 8
# A thread left without work this long ends; the next call starts another (tests make many runners).
IDLE_SECONDS = 10.0
_Job = tuple[Callable[..., Any], tuple[Any, ...], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


class Blocking:
    """Runs a blocking call off the event loop.

    SQLite takes one writer at a time: a single thread queues writers in the process instead of
    letting them spin on the file lock, which is what keeps the sign-up latency flat under load.
    A call whose caller is cancelled still runs to its end (it may be inside a transaction), and the
    cancellation takes effect then, as with anyio's threads.
    """

    def __init__(self, engine: Engine, *, idle_seconds: float = IDLE_SECONDS) -> None:
        self._threads = 1 if engine.dialect.name == "sqlite" else POSTGRES_THREADS
        self._idle_seconds = idle_seconds
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._started: list[threading.Thread] = []
        self._lock = threading.Lock()

    async def __call__(self, call: Callable[[Unpack[Args]], T], *args: *Args) -> T:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        self._jobs.put((call, args, loop, done))
        if len(self._started) < self._threads:  # after the put: a thread ending now sees the job, or is gone
            self._start_one()
        cancelled: asyncio.CancelledError | None = None
        while not done.done():
            try:
                await asyncio.shield(done)
            except asyncio.CancelledError as error:
                if done.cancelled():  # the loop is closing under it: nothing will set the result
                    raise
                cancelled = error
        if cancelled is not None:
            raise cancelled
        return done.result()

    def _start_one(self) -> None:
        with self._lock:
            if len(self._started) < self._threads:
                # A daemon: a thread left waiting for work must not keep the process alive at exit.
                thread = threading.Thread(target=self._work, name=f"database-{len(self._started)}", daemon=True)
                self._started.append(thread)
                thread.start()

    def _work(self) -> None:
        while True:
            try:
                call, args, loop, done = self._jobs.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._jobs.empty():
                        self._started.remove(threading.current_thread())
                        return
                continue
            try:
                _settle(loop, done, call(*args), None)
            except BaseException as error:  # handed to the caller, who raises it
                _settle(loop, done, None, error)
            del call, args, done  # not kept alive while waiting for the next call


def _settle(loop: asyncio.AbstractEventLoop, done: asyncio.Future[Any], result: Any,
            error: BaseException | None) -> None:
    def settle() -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)

    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
        loop.call_soon_threadsafe(settle)
