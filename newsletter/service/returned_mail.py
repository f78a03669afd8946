"""Returned mail inside `newsletter run`: the listener, the spool and the intake (and, when configured,
the IMAP poller), built from `[bounces]` on the subscriber side the service already holds."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.settings import Config
from newsletter.errors import MailboxError
from newsletter.inbound.imap_poller import ImapPoller
from newsletter.inbound.intake import Intake
from newsletter.inbound.listener import ReturnListener
from newsletter.inbound.process import ReturnProcessor, return_pattern
from newsletter.inbound.spool import Spool
from subscribers.returns import SubscriberReturns
from subscribers.side import Subscribers

log = logging.getLogger(__name__)


class ReturnedMail:
    """What `run` does with returned mail: listening when `[bounces] listen_port` is set, polling when
    `imap_host` is; nothing while `[bounces] domain` is empty."""

    def __init__(self, config: Config, sessions: sessionmaker[Session], side: Subscribers) -> None:
        settings = config.bounces
        self.listening = bool(settings.domain) and bool(settings.listen_port)
        self.polling = bool(settings.domain) and bool(settings.imap_host)
        self._poll_every = settings.imap_minutes * 60.0
        self.spool = Spool(config.path(settings.spool_dir))
        self.processor = ReturnProcessor(sessions, SubscriberReturns(side), settings, side.now)
        self.intake = Intake(self.spool, self.processor, sessions)
        self.listener = ReturnListener(settings, return_pattern(settings), self.spool, self.intake.wake)
        self.poller = ImapPoller(settings, self.processor.handle)
        self.port: int | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, stop: asyncio.Event, *, port: int | None = None) -> list[asyncio.Task[None]]:
        """Open the listener (on `port` instead of listen_port when given) and start the intake; the tasks
        to wait for when draining."""
        if self.listening:
            self.spool.create()
            self.port = await self.listener.start(port)
            self._tasks.append(asyncio.create_task(self.intake.run(stop), name="returned-mail-intake"))
        if self.polling:
            self._tasks.append(asyncio.create_task(self._poll(stop), name="returned-mail-imap"))
        return self._tasks

    async def _poll(self, stop: asyncio.Event) -> None:
        """Poll the IMAP folder now and every imap_minutes until `stop`; a failed poll is logged and retried."""
        while not stop.is_set():
            try:
                done = await asyncio.to_thread(self.poller.poll)
                await asyncio.to_thread(self.intake.warn_about,
                                        {h.issue_id for h in done.handled if h.issue_id is not None})
            except MailboxError as error:
                log.warning("%s; trying again in %d minute(s)", error, self._poll_every // 60,
                            extra={"event": "inbound.imap_failed"})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._poll_every)

    async def close(self) -> None:
        """Stop accepting mail (what is stored stays for the next start)."""
        await self.listener.close()
