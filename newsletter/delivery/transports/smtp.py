"""The SMTP transport: a small pool of reused aiosmtplib connections, a shared rate limit, a backoff per
connection when the server refuses or is down, and SMTP replies translated into TemporaryFailure /
PermanentFailure / RelayRefusal (the relay will not send for us: see `replies.py`) with redacted addresses.

Speed: `aiosmtplib.SMTP.sendmail` re-normalises line endings, re-stuffs dots (twice over a 30 KB
message, once for SIZE) and parses both addresses on every call. Here each message is one MAIL, one
RCPT and one DATA whose bytes were stuffed once per issue (see `transport.dot_stuff`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl

from aiosmtplib import (
    SMTP,
    SMTPAuthenticationError,
    SMTPDataError,
    SMTPException,
    SMTPHeloError,
    SMTPResponse,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPStatus,
    SMTPTimeoutError,
)

from newsletter.config.settings import SmtpSettings
from newsletter.delivery.transports.base import Outgoing, Ready, dot_stuff
from newsletter.delivery.transports.pacing import ConnectionBackoff, SendPacer
from newsletter.delivery.transports.replies import refuses_us
from newsletter.errors import DeliveryError, PermanentFailure, RelayRefusal, SessionFailure, TemporaryFailure
from newsletter.mail.redact import redact, redact_text

log = logging.getLogger(__name__)

# Spaces, brackets and control characters would break the command line or smuggle another command in.
_UNSENDABLE = re.compile(r"[\x00-\x20<>\x7f]")
_ACCEPTED_RCPT = (SMTPStatus.completed, SMTPStatus.will_forward)
_TOO_MANY_RECIPIENTS = 452
_QUIT_TIMEOUT = 5.0


class PreparedSMTP(SMTP):
    """aiosmtplib's client plus a DATA step for bytes already CRLF-terminated and dot-stuffed."""

    async def data_prepared(self, stuffed: bytes, ready: Ready | None = None) -> SMTPResponse:
        """DATA with `stuffed` sent as is; raises SMTPDataError like `SMTP.data` on a refusal.

        `ready` must be in before the final ".", the moment the server accepts the message. It is
        started before DATA, so its write runs while the server answers, and is usually done when the
        body goes out: then body and "." leave in one write. If not, the body goes first and the "."
        follows once `ready` is done, so the write still overlaps the body. If it raises, the "." is
        never sent and the caller closes the connection, which drops the message.
        """
        if ready is not None:
            ready.start()
        start = await self.execute_command(b"DATA")
        if start.code != SMTPStatus.start_input:
            raise SMTPDataError(start.code, start.message)
        if self.protocol is None:
            raise SMTPServerDisconnected("Connection lost")
        try:
            if ready is not None and not ready.done():
                # The server says nothing until it has the ".", so no reply can arrive unawaited here.
                self.protocol.write(stuffed)
                await ready
                if self.protocol is None:
                    raise SMTPServerDisconnected("Connection lost")
                self.protocol.write(b".\r\n")
            else:
                if ready is not None:
                    await ready  # done: returns at once, or raises if its write failed
                self.protocol.write(stuffed + b".\r\n")  # one write, one TCP segment fewer per message
            # No await between the last write and read_response, so the reply cannot arrive unawaited.
            reply = await self.protocol.read_response(timeout=self.timeout)
        except (SMTPServerDisconnected, SMTPTimeoutError):
            self.close()
            raise
        if reply.code != SMTPStatus.completed:
            raise SMTPDataError(reply.code, reply.message)
        return reply


class SmtpTransport:
    """Sends over up to `settings.connections` connections, opened when first needed and then reused."""

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        tls_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        limiter: SendPacer | None = None,
        backoff: ConnectionBackoff | None = None,
    ) -> None:
        self.settings = settings
        if limiter is None and settings.rate_per_second > 0:
            limiter = SendPacer(settings.rate_per_second)
        self.limiter = limiter
        self.backoff = backoff or ConnectionBackoff()
        self._clients = [
            PreparedSMTP(
                hostname=settings.host,
                port=settings.port,
                username=settings.username or None,
                password=settings.password if settings.username else None,
                timeout=settings.timeout,
                use_tls=settings.security == "tls",
                start_tls=settings.security == "starttls",
                tls_context=tls_context,
                local_hostname=local_hostname,
            )
            for _ in range(max(1, settings.connections))
        ]
        # Last in, first out: a light load keeps reusing one connection instead of opening them all.
        self._idle: asyncio.LifoQueue[PreparedSMTP] = asyncio.LifoQueue()
        for client in self._clients:
            self._idle.put_nowait(client)

    async def send(self, message: Outgoing) -> None:
        """One transaction on a pooled connection; returns when the server accepted the message."""
        sender = _envelope_address(message.sender, message.recipient, sender=True)
        recipient = _envelope_address(message.recipient, message.recipient, sender=False)
        stuffed = message.data if message.dot_stuffed else dot_stuff(message.data)
        if self.limiter is not None:
            await self.limiter.wait()
        client = await self._idle.get()
        try:
            if not client.is_connected:
                await self.backoff.wait(id(client))
                await self._connect(client)
            await self._transaction(client, sender, recipient, stuffed, message)
        except SessionFailure:
            self.backoff.failed(id(client))
            raise
        except DeliveryError:
            raise
        except SMTPServerDisconnected as exc:
            client.close()
            self.backoff.failed(id(client))
            raise TemporaryFailure(
                "the connection was lost before the server confirmed the message; it may be sent again",
                recipient=redact(message.recipient),
            ) from exc
        except SMTPTimeoutError as exc:
            client.close()
            raise TemporaryFailure(
                f"the server did not answer within {self.settings.timeout:g} s ([smtp] timeout)",
                recipient=redact(message.recipient),
            ) from exc
        except (SMTPException, OSError) as exc:
            client.close()
            raise TemporaryFailure(f"the SMTP session broke: {redact_text(str(exc))}",
                                   recipient=redact(message.recipient)) from exc
        except BaseException:
            # Cancelled mid-transaction: the next message must not inherit this session.
            client.close()
            raise
        else:
            self.backoff.succeeded(id(client))
        finally:
            self._idle.put_nowait(client)

    def share(self, senders: int) -> None:
        """Keep `rate_per_second` for the whole send when `senders` processes share it."""
        if self.limiter is not None:
            self.limiter.share(senders)

    async def close(self) -> None:
        """QUIT every open connection; call it after every send has returned."""
        await asyncio.gather(*(_quit(client) for client in self._clients if client.is_connected))

    async def _connect(self, client: PreparedSMTP) -> None:
        where = f"{self.settings.host}:{self.settings.port}"
        try:
            await client.connect()
            if client.is_ehlo_or_helo_needed:
                try:
                    await client.ehlo()
                except SMTPHeloError:
                    await client.helo()
        except SMTPAuthenticationError as exc:
            client.close()
            raise RelayRefusal(
                f"{where} refused the login of [smtp] username {self.settings.username!r}: "
                f"{redact_text(exc.message)}; check it and NEWSLETTER_SMTP_PASSWORD",
                code=exc.code,
            ) from exc
        except SMTPResponseException as exc:
            client.close()
            raise SessionFailure(f"{where} turned the connection away: {redact_text(exc.message)}",
                                 code=exc.code) from exc
        except SMTPTimeoutError as exc:
            client.close()
            raise SessionFailure(f"{where} did not answer within {self.settings.timeout:g} s "
                                 "([smtp] timeout)") from exc
        except (SMTPException, OSError) as exc:
            client.close()
            raise SessionFailure(f"cannot connect to {where}: {exc}; check [smtp] host, port "
                                 f"and security ({self.settings.security!r})") from exc
        log.debug("smtp: connected to %s", where)

    async def _transaction(self, client: PreparedSMTP, sender: bytes, recipient: bytes, stuffed: bytes,
                           message: Outgoing) -> None:
        address = message.recipient
        utf8 = not (sender.isascii() and recipient.isascii())
        if utf8 and not client.supports_extension("smtputf8"):
            raise PermanentFailure("the address is not ASCII and the server does not offer SMTPUTF8",
                                   recipient=redact(address))
        options = [b"SMTPUTF8"] if utf8 else []
        if client.supports_extension("size"):
            options.append(b"SIZE=%d" % len(stuffed))
        if client.supports_extension("8bitmime"):
            options.append(b"BODY=8BITMIME")
        reply = await client.execute_command(b"MAIL", b"FROM:<" + sender + b">", *options)
        if reply.code != SMTPStatus.completed:
            await _reset(client, reply.code)
            # Never a bounce; a permanent refusal of our sender meets every message, so it stops the send.
            refused = RelayRefusal if 500 <= reply.code < 600 else SessionFailure
            raise refused(f"the server refused the sender: {redact_text(reply.message)}; "
                          "check [newsletter] from_address", code=reply.code)
        reply = await client.execute_command(b"RCPT", b"TO:<" + recipient + b">")
        if reply.code not in _ACCEPTED_RCPT:
            await _reset(client, reply.code)
            raise _refusal(reply.code, reply.message, address, "the recipient")
        try:
            await client.data_prepared(stuffed, message.ready)
        except SMTPDataError as exc:
            await _reset(client, exc.code)
            raise _refusal(exc.code, exc.message, address, "the message") from exc


def _envelope_address(address: str, recipient: str, *, sender: bool) -> bytes:
    if "@" in address and not _UNSENDABLE.search(address):
        return address.encode("utf-8")
    problem = (f"{redact(address)} cannot be used in SMTP: "
               "it needs an @ and no spaces, <> or control characters")
    if sender:
        raise SessionFailure(problem + "; check [newsletter] from_address", recipient=redact(recipient))
    raise PermanentFailure(problem, recipient=redact(recipient))


def _refusal(code: int, text: str, address: str, what: str) -> DeliveryError:
    if refuses_us(code, text):
        return RelayRefusal(f"the relay refused to send for us: {code} {redact_text(text)}", code=code)
    permanent = 500 <= code < 600
    verb = "refused" if permanent else "deferred"
    failure = PermanentFailure if permanent else TemporaryFailure
    return failure(f"the server {verb} {what}: {redact_text(text)}", code=code, recipient=redact(address))


async def _reset(client: PreparedSMTP, code: int) -> None:
    """End a refused transaction so the connection can carry the next message."""
    if not client.is_connected:
        return  # a 421 or a drop: aiosmtplib has closed it already
    if code == _TOO_MANY_RECIPIENTS or not 400 <= code < 600:
        # 452 is a quota on this session, and an unexpected code means we may be out of step:
        # either way the next message is better off on a fresh connection.
        await _quit(client)
        return
    try:
        reply = await client.execute_command(b"RSET")
    except (SMTPException, OSError):
        client.close()
        return
    if reply.code != SMTPStatus.completed:
        client.close()


async def _quit(client: PreparedSMTP) -> None:
    try:
        await client.quit(timeout=min(_QUIT_TIMEOUT, client.timeout or _QUIT_TIMEOUT))
    except (SMTPException, OSError):
        pass
    finally:
        client.close()
