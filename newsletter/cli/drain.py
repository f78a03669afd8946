"""SIGTERM and SIGINT during `newsletter send`: the send drains the way `newsletter run` does."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any

from rich.console import Console

from newsletter.delivery.tally import Tally
from newsletter.errors import SendStopped


class SendDrain:
    """The first signal stops new messages, lets those in flight finish and hands the untried rows back,
    within `[delivery] drain_seconds`; a second one, or that deadline, cuts the wait short (rows still
    claimed then are taken at once by the next run on this host, this process being gone)."""

    def __init__(self, seconds: float, console: Console) -> None:
        self._seconds = seconds
        self._console = console
        self.stop = asyncio.Event()
        self.signal: str | None = None  # the name of the signal that stopped the send, if one did

    async def run(self, send: Coroutine[Any, Any, Tally]) -> SendStopped | None:
        """Run the send with the signals handled; why it stopped, when it stopped on its own."""
        loop = asyncio.get_running_loop()
        work = asyncio.ensure_future(send)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig, work)
        try:
            await work
        except SendStopped as stopped:
            return stopped
        except asyncio.CancelledError:
            if not work.cancelled():
                raise
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        return None

    def _on_signal(self, sig: signal.Signals, work: asyncio.Future[Tally]) -> None:
        if self.stop.is_set():
            work.cancel()
            return
        self.signal = sig.name
        self.stop.set()
        asyncio.get_running_loop().call_later(self._seconds, work.cancel)
        self._console.print(f"{sig.name}: finishing the messages in flight (at most {self._seconds:g} s) and "
                            "handing the rest back; send it again to stop at once", markup=False)
