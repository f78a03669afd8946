"""Requests in flight, so that the outbox worker can wait for a quiet moment before each batch.

The endpoint and the worker share one event loop and, in one Python process, one GIL on the machine's
cores. A sign-up must be answered at once; its confirmation email may as well go out a few seconds
later. So while requests keep coming the worker holds back, at most `patience` seconds a batch (under a
long flood it still makes progress, a small batch at a time), and catches up when the burst ends.
Nothing is lost by waiting: the sign-up and its mail are rows in the database before anyone waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from starlette.types import ASGIApp, Receive, Scope, Send

# Quiet means no request in flight for this long: a gap between two requests of a burst is not quiet.
LULL_SECONDS = 0.05


class Traffic:
    """Counts the requests being served by the apps it wraps (`count`); `quiet` waits for none."""

    def __init__(self, lull: float = LULL_SECONDS) -> None:
        self.in_flight = 0
        self.lull = lull
        self._last = -lull  # when the last request ended (time.monotonic)
        self._idle = asyncio.Event()
        self._idle.set()

    def count(self, app: ASGIApp) -> ASGIApp:
        """`app`, with each of its HTTP requests counted while it is served."""

        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            self.in_flight += 1
            self._idle.clear()
            try:
                await app(scope, receive, send)
            finally:
                self.in_flight -= 1
                self._last = time.monotonic()
                if not self.in_flight:
                    self._idle.set()

        return counted

    async def quiet(self, patience: float) -> bool:
        """Return once no request has been in flight for `lull` seconds, or after `patience` seconds;
        whether it was quiet."""
        deadline = time.monotonic() + patience
        while True:
            now = time.monotonic()
            calm = self._last + self.lull - now
            if not self.in_flight and calm <= 0:
                return True
            left = deadline - now
            if left <= 0:
                return False
            if self.in_flight:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._idle.wait(), left)
            else:
                await asyncio.sleep(min(calm, left))
