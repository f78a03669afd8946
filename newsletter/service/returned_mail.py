"""Returned mail inside `newsletter run`: the listener, the spool and the intake (and, when configured,
the IMAP poller), built from `[bounces]` on the subscriber side the service already holds."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.settings import Config
from newsletter.inbound.intake import Intake
from newsletter.inbound.listener import ReturnListener
from newsletter.inbound.process import ReturnProcessor, return_pattern
from newsletter.inbound.spool import Spool
from subscribers.returns import SubscriberReturns
from subscribers.side import Subscribers

log = logging.getLogger(__name__)


class ReturnedMail:
    """What `run` does with returned mail; `enabled` is False while `[bounces] domain` is empty or no way
    of receiving is configured (then it does nothing)."""

    def __init__(self, config: Config, sessions: sessionmaker[Session], side: Subscribers) -> None:
        settings = config.bounces
        self.enabled = bool(settings.domain) and bool(settings.listen_port)
        self.spool = Spool(config.path(settings.spool_dir))
        self.processor = ReturnProcessor(sessions, SubscriberReturns(side), settings, side.now)
        self.intake = Intake(self.spool, self.processor, sessions)
        self.listener = ReturnListener(settings, return_pattern(settings), self.spool, self.intake.wake)
        self.port: int | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, stop: asyncio.Event, *, port: int | None = None) -> list[asyncio.Task[None]]:
        """Open the listener (on `port` instead of listen_port when given) and start the intake; the tasks
        to wait for when draining."""
        if not self.enabled:
            return []
        self.spool.create()
        self.port = await self.listener.start(port)
        self._tasks = [asyncio.create_task(self.intake.run(stop), name="returned-mail-intake")]
        return self._tasks

    async def close(self) -> None:
        """Stop accepting mail (what is stored stays for the next start)."""
        await self.listener.close()
