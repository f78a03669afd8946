"""Outcomes written as they happen, in group commits that no worker waits for more than it must.

A worker hands each outcome over (`submit`) and goes on with its next message; the returned `Written`
is that message's `Outgoing.ready`, which the transport awaits just before the message can be accepted
(before the final "." of DATA). So a message is accepted only after the outcome before it on the same connection is in
the database: a crash repeats at most one message per connection. Awaiting a `Written` whose outcome is
not written yet starts a commit of every outcome handed over so far, so the commit overlaps the next
message's first steps and several workers' outcomes share it; the SMTP transport asks for it (`start`)
just before DATA, so it is usually in by the time the body goes out. An outcome nobody asks for is written
after `wait` seconds at most, and `most` of them at once start a commit too.

A commit costs the process more than the rest of a message's work on the event loop (SQLite's commit
runs on the loop, about 0.1 ms). When outcomes come thick and fast (less than `gather` seconds apart)
the process is busy, not waiting on the network, so a commit asked for waits up to `gather` seconds
for the next outcomes to share it, and starts at once when all `waiters` (one per worker) wait on
it. When outcomes come further apart (a relay a round trip away), it starts at once: nothing waits.
(A worker waiting on the server cannot be told from one about to hand over an outcome without looking
into the event loop, so a commit may wait its `gather` out while nobody works: on loopback, that idle
time is smaller than the commits it saves.)

Commits run one at a time in submission order, so when an outcome is in, so is every one before it.
After a write fails (the database stayed away longer than the send waits), every later one fails too:
nothing is accepted after an outcome that could not be written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import Any

from newsletter.delivery.ledger import Outcome

Write = Callable[[list[Outcome]], Awaitable[None]]


class Written:
    """Awaitable: done once the outcomes it stands for are committed; raises if their write failed.

    A transport's `Ready` (`transports/base.py`): `start` asks for the commit without waiting for it.
    """

    def __init__(self, writer: OutcomeWriter, future: asyncio.Future[None]) -> None:
        self._writer = writer
        self._future = future

    def start(self) -> None:
        self._writer.hurry(self._future)

    def done(self) -> bool:
        return self._future.done()

    def __await__(self) -> Generator[Any, None, None]:
        return self._writer.wait_for(self._future).__await__()


class OutcomeWriter:
    """Writes outcomes through `write` (one transaction per call), in order, several at a time."""

    def __init__(self, write: Write, *, most: int = 200, wait: float = 0.01, gather: float = 0.0,
                 waiters: int = 1) -> None:
        self._write = write
        self._most = most
        self._wait = wait
        self._gather = gather
        self._waiters = waiters
        self._waiting = 0  # callers awaiting an outcome not written yet
        self._last = float("-inf")  # when the last outcome came (the loop's clock)
        self._busy = False  # it came less than `gather` after the one before: commits gather
        self._gathering: asyncio.TimerHandle | None = None
        self._queue: list[tuple[Sequence[Outcome], asyncio.Future[None]]] = []
        self._queued = 0
        self._flushing: asyncio.Task[None] | None = None
        self._writing: set[asyncio.Future[None]] = set()  # the futures of the commit under way
        self._due = False  # someone waits for a queued outcome, or enough are queued, or one waited long enough
        self._timer: asyncio.TimerHandle | None = None
        self._broken: BaseException | None = None

    def submit(self, outcomes: Sequence[Outcome]) -> Written:
        """Queue `outcomes` for the next commit; await the result to know they are in."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if self._broken is not None:
            _fail(future, self._broken)
            return Written(self, future)
        self._queue.append((outcomes, future))
        self._queued += len(outcomes)
        now = loop.time()
        self._busy, self._last = now - self._last < self._gather, now
        if self._queued >= self._most:
            self._commit_soon()
        elif self._timer is None:
            self._timer = loop.call_later(self._wait, self._commit_soon)
        return Written(self, future)

    def hurry(self, future: asyncio.Future[None]) -> None:
        """Start a commit that takes `future`'s outcomes, unless they are written or being written; while
        outcomes come thick and fast, one that gathers the next few (see the module's docstring)."""
        if future.done() or future in self._writing:
            return
        if self._busy and self._waiting < self._waiters:
            if self._gathering is None:
                self._gathering = asyncio.get_running_loop().call_later(self._gather, self._commit_soon)
            return
        self._commit_soon()

    async def wait_for(self, future: asyncio.Future[None]) -> None:
        if future.done():  # most often, by the time a message's "." is due: no shield needed
            future.result()  # raises if the write failed
            return
        self._waiting += 1
        try:
            self.hurry(future)  # the last of the `waiters` to wait starts a gathering commit at once
            await asyncio.shield(future)
        finally:
            self._waiting -= 1

    def _commit_soon(self) -> None:
        self._due = True
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._flush(), name="outcome-writer")

    async def _flush(self) -> None:
        while self._queue and self._due:
            self._due = False
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._gathering is not None:
                self._gathering.cancel()
                self._gathering = None
            waiting, self._queue, self._queued = self._queue, [], 0
            self._writing = {future for _, future in waiting}
            try:
                if self._broken is not None:
                    raise self._broken
                await self._write([outcome for outcomes, _ in waiting for outcome in outcomes])
            except Exception as error:  # handed to every worker waiting on it, which decides what to do
                self._broken = error
                for _, future in waiting:
                    if not future.done():
                        _fail(future, error)
                self._due = True  # fail the rest at once
                continue
            finally:
                self._writing = set()
            for _, future in waiting:
                if not future.done():
                    future.set_result(None)


def _fail(future: asyncio.Future[None], error: BaseException) -> None:
    """A failed write is told to whoever waits on it; one nobody waits on must not be logged as lost."""
    future.set_exception(error)
    future.exception()  # marks it retrieved: an await still raises it
