"""Group commit: sign-ups that arrive while the database is busy wait, then go in together.

Under load one thread hop and one COMMIT serve a whole batch instead of every request paying for its
own; alone, a request is a batch of one and waits for nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from subscribers.blocking import Blocking

Item = TypeVar("Item")
Result = TypeVar("Result")
MAX_BATCH = 64


class GroupCommit(Generic[Item, Result]):
    """Runs `write(batch) -> results` (blocking, one result per item, in order) on the `blocking` runner."""

    def __init__(self, write: Callable[[Sequence[Item]], list[Result]], blocking: Blocking,
                 max_batch: int = MAX_BATCH) -> None:
        self._write = write
        self._blocking = blocking
        self._max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._draining = False

    async def submit(self, item: Item) -> Result:
        """Write `item` with whatever else is waiting; its own result, or the batch's exception."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[:self._max_batch]
                del self._waiting[:self._max_batch]
                try:
                    results = await self._blocking(self._write, [item for item, _ in batch])
                except Exception as error:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():  # its request may have been cancelled meanwhile
                        future.set_result(result)
        finally:
            self._draining = False
