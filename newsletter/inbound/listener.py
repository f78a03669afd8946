"""The inbound listener of `newsletter run`: SMTP or LMTP (aiosmtpd) for the return addresses, for an
operator whose MX or relay forwards the bounce domain to it.

- Mail only for our return addresses (and the bare `bounces@DOMAIN`, for feedback-loop reports): any
  other recipient is refused (550), so it relays nothing.
- A size cap (`[bounces] max_message_bytes`): a larger message is read to its end and dropped (552),
  never held in memory whole (aiosmtpd discards it as it comes).
- A rate cap (`[bounces] per_minute` messages a minute from one client): beyond it MAIL is answered
  451, so a flood is told to come back later and a real relay does, losing nothing.
- A message is answered 250 only once it is on disk (`spool.py`); then the intake is woken to handle it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from newsletter.config.settings import BouncesSettings
from newsletter.inbound.report import ReturnPattern
from newsletter.inbound.spool import Spool

log = logging.getLogger(__name__)
WINDOW = 60.0  # seconds the rate cap counts over
TOO_FAST = "451 4.7.1 Too many messages from your address; try again later"
NOT_HERE = "550 5.1.1 No such mailbox here"
NOT_STORED = "451 4.3.0 The message could not be stored; try again later"
STORED = "250 2.0.0 Stored"


class RateCap:
    """At most `per_minute` messages a minute from one client address; logs once a minute per client held back."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = per_minute
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._told: dict[str, float] = {}

    def admit(self, client: str) -> bool:
        now = self._clock()
        times = self._seen.setdefault(client, deque())
        while times and times[0] <= now - WINDOW:
            times.popleft()
        if len(times) < self._limit:
            times.append(now)
            return True
        if now - self._told.get(client, -WINDOW) >= WINDOW:
            self._told[client] = now
            log.warning("inbound: client %s sent more than %d messages in a minute; the rest are told to try "
                        "again later (451)", client, self._limit,
                        extra={"event": "inbound.rate_capped", "client": client})
        return False


class ReturnHandler:
    """aiosmtpd's handler: the checks above, and the message into the spool before 250."""

    def __init__(self, pattern: ReturnPattern, spool: Spool, cap: RateCap, *, lmtp: bool,
                 on_stored: Callable[[], None]) -> None:
        self._pattern = pattern
        self._spool = spool
        self._cap = cap
        self._lmtp = lmtp
        self._on_stored = on_stored

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        if not self._cap.admit(_client(session)):
            return TOO_FAST
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if not self._pattern.accepts(address):
            return NOT_HERE
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        try:
            await asyncio.to_thread(self._spool.put, data, envelope.rcpt_tos)
        except OSError as error:
            log.error("inbound: a message could not be stored (%s); the sender was told to try again later",
                      error.strerror or type(error).__name__, extra={"event": "inbound.not_stored"})
            return self._each(NOT_STORED, envelope)
        self._on_stored()
        return self._each(STORED, envelope)

    def _each(self, reply: str, envelope: Envelope) -> str:
        # LMTP answers DATA once per recipient (RFC 2033 4.2).
        return "\r\n".join([reply] * len(envelope.rcpt_tos)) if self._lmtp and envelope.rcpt_tos else reply


def _note_size(status: Any, limit: int | None) -> None:
    # aiosmtpd refuses an oversized message itself, without calling the handler: say so in the log.
    if isinstance(status, str) and status.startswith("552"):
        log.warning("inbound: a message larger than bounces.max_message_bytes (%s) was refused (552); nothing "
                    "of it was kept", limit, extra={"event": "inbound.too_large"})


class _SmtpSession(SMTP):
    async def push(self, status: Any) -> None:
        _note_size(status, self.data_size_limit)
        await super().push(status)


class _LmtpSession(LMTP):
    async def push(self, status: Any) -> None:
        _note_size(status, self.data_size_limit)
        await super().push(status)


class ReturnListener:
    """The listening socket; `start` binds it, `close` stops accepting and ends open sessions."""

    def __init__(self, settings: BouncesSettings, pattern: ReturnPattern, spool: Spool,
                 on_stored: Callable[[], None], clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        lmtp = settings.protocol == "lmtp"
        self._handler = ReturnHandler(pattern, spool, RateCap(settings.per_minute, clock), lmtp=lmtp,
                                      on_stored=on_stored)
        self._lmtp = lmtp
        self._server: asyncio.Server | None = None

    async def start(self, port: int | None = None) -> int:
        """Listen on `[bounces] listen_host:listen_port` (or `port`); the port it got."""
        loop = asyncio.get_running_loop()
        session = _LmtpSession if self._lmtp else _SmtpSession
        self._server = await loop.create_server(
            lambda: session(self._handler, data_size_limit=self._settings.max_message_bytes,
                            hostname="newsletter-returns"),
            self._settings.listen_host, self._settings.listen_port if port is None else port)
        bound = int(self._server.sockets[0].getsockname()[1])
        log.info("inbound %s listener on %s:%d for the return addresses", self._settings.protocol.upper(),
                 self._settings.listen_host, bound, extra={"event": "inbound.listening", "port": bound})
        return bound

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


def _client(session: Session) -> str:
    peer = session.peer
    return str(peer[0]) if isinstance(peer, tuple) else str(peer)
