"""Outcomes written as they happen, in group commits that no worker waits for more than it must.

A worker hands each outcome over (`submit`) and goes on with its next message; the returned `Written`
is that message's `Outgoing.ready`, which the transport awaits just before the message can be accepted
(before the final "." of DATA). So a message is accepted only after the outcome before it on the same connection is in
the database: a crash repeats at most one message per connection. Awaiting a `Written` whose outcome is
not written yet starts a commit of every outcome handed over so far, so the commit overlaps the next
message's first steps and several workers' outcomes share it; the SMTP transport asks for it (`start`)
just before DATA, so it is usually in by the time the body goes out. An outcome nobody asks for is written
after `wait` seconds at most, and `most` of them at once start a commit too.

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

    def __init__(self, write: Write, *, most: int = 200, wait: float = 0.01) -> None:
        self._write = write
        self._most = most
        self._wait = wait
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
        future.add_done_callback(_retrieved)
        if self._broken is not None:
            future.set_exception(self._broken)
            return Written(self, future)
        self._queue.append((outcomes, future))
        self._queued += len(outcomes)
        if self._queued >= self._most:
            self._commit_soon()
        elif self._timer is None:
            self._timer = loop.call_later(self._wait, self._commit_soon)
        return Written(self, future)

    def hurry(self, future: asyncio.Future[None]) -> None:
        """Start a commit that takes `future`'s outcomes, unless they are written or being written."""
        if not future.done() and future not in self._writing:
            self._commit_soon()

    async def wait_for(self, future: asyncio.Future[None]) -> None:
        if future.done():  # most often, by the time a message's "." is due: no shield needed
            future.result()  # raises if the write failed
            return
        self.hurry(future)
        await asyncio.shield(future)

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
                        future.set_exception(error)
                self._due = True  # fail the rest at once
                continue
            finally:
                self._writing = set()
            for _, future in waiting:
                if not future.done():
                    future.set_result(None)


def _retrieved(future: asyncio.Future[None]) -> None:
    """A failed write is told to whoever waits on it; one nobody waits on must not be logged as lost."""
    if not future.cancelled():
        future.exception()
