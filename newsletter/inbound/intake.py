"""The intake of `newsletter run`: hands each spooled message to the processor, deletes it once handled,
and warns when an issue's complaints or bounces pass their ceilings (`rates.py`).

A message whose handling fails (the database away, a bug) stays in the spool and is tried again on the
next wake or poll, so nothing received is lost; messages left by a crash are handled at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from sqlalchemy.orm import Session, sessionmaker

from newsletter.delivery import ledger
from newsletter.inbound.process import Handled, ReturnProcessor
from newsletter.inbound.rates import rates
from newsletter.inbound.spool import Spool

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0


class Intake:
    """Empties the spool into the processor whenever it is woken (and every few seconds)."""

    def __init__(self, spool: Spool, processor: ReturnProcessor, sessions: sessionmaker[Session],
                 poll_seconds: float = POLL_SECONDS) -> None:
        self._spool = spool
        self._processor = processor
        self._sessions = sessions
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._warned: set[tuple[int, str]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Handle what is waiting until `stop` is set; the message in hand is finished first."""
        while not stop.is_set():
            self._wake.clear()
            await self.handle_waiting(stop)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(self._wake, stop), self._poll)

    async def handle_waiting(self, stop: asyncio.Event | None = None) -> list[Handled]:
        """Handle every spooled message, oldest first; what was done with each."""
        done: list[Handled] = []
        failed: list[str] = []
        for path in self._spool.waiting():
            if stop is not None and stop.is_set():
                break
            try:
                raw, envelope_to = await asyncio.to_thread(self._spool.read, path)
                handled = await asyncio.to_thread(self._processor.handle, raw, envelope_to)
            except Exception as error:  # the message stays spooled and is tried again; the others go on
                failed.append(type(error).__name__)
                continue
            self._spool.done(path)
            done.append(handled)
        if failed:
            log.warning("inbound: %d received message(s) could not be handled yet (%s); they are kept and tried "
                        "again", len(failed), ", ".join(sorted(set(failed))), extra={"event": "inbound.retry"})
        await asyncio.to_thread(self.warn_about, {h.issue_id for h in done if h.issue_id is not None})
        return done

    def warn_about(self, issue_ids: Iterable[int]) -> None:
        """Log a warning, once per issue and kind, for each issue above a ceiling."""
        for issue_id in issue_ids:
            with self._sessions() as session:
                came_back = rates(ledger.counts(session, issue_id))
            for warning in came_back.warnings():
                kind = warning.split(" ", 1)[0]
                if (issue_id, kind) not in self._warned:
                    self._warned.add((issue_id, kind))
                    log.warning("issue %d: %s", issue_id, warning,
                                extra={"event": "inbound.rate_warning", "issue": issue_id, "kind": kind})


async def _first(*events: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
