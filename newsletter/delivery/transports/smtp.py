"""The SMTP transport: a pool of reused connections, ESMTP PIPELINING when the server offers it, a shared
rate limit, a backoff per connection when the server refuses or is down, and replies translated into
TemporaryFailure / PermanentFailure / RelayRefusal (the relay will not send for us: see `replies.py`)
with redacted addresses.

Round trips, not CPU, are what a distant relay costs. In lock-step each message takes four (MAIL, RCPT,
DATA, the body). When the server offers PIPELINING (RFC 2920) MAIL, RCPT and DATA go in one write, and
the caller may name the message it sends next (`Outgoing.following`): its MAIL, RCPT and DATA then
follow this message's final "." in the same write, so each message costs one round trip. Every reply of
a group is read, in order, whatever came before it: a refused RCPT is that recipient's outcome, and the
DATA behind it (refused by the server for want of a recipient) is read and not mistaken for the next
reply. Pipelining never moves a message's acceptance: its "." still waits for `Outgoing.ready` (the
previous outcome's write), so a crash repeats at most one message per connection, as in lock-step.
CHUNKING (BDAT) would give the same one round trip; it is not used, because pipelining the next
transaction already does on every server that pipelines, and Postfix's smtp-sink does not offer it.

The protocol is spoken on asyncio streams (`smtp_session.py` says why not aiosmtplib). Each message's
bytes were dot-stuffed once per issue (see `transport.dot_stuff`) and go out untouched.
"""

from __future__ import annotations

import asyncio
import logging
import ssl

from newsletter.config.settings import SmtpSettings
from newsletter.delivery.transports.base import Outgoing
from newsletter.delivery.transports.pacing import ConnectionBackoff, SendPacer
from newsletter.delivery.transports.replies import refuses_us
from newsletter.delivery.transports.smtp_envelope import envelope_commands, fit_options, needs_smtputf8, stuffed_data
from newsletter.delivery.transports.smtp_pool import Connection, ConnectionPool
from newsletter.delivery.transports.smtp_session import CLOSING, NoReply, Reply, SessionRefused, SmtpSession
from newsletter.errors import DeliveryError, PermanentFailure, RelayRefusal, SessionFailure, TemporaryFailure
from newsletter.mail.redact import redact, redact_text

log = logging.getLogger(__name__)

_ACCEPTED_RCPT = (250, 251)
_START_INPUT = 354
_TOO_MANY_RECIPIENTS = 452
_LOST = "the connection was lost before the server confirmed the message; it may be sent again"


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
        hostname = local_hostname
        self._pool = ConnectionPool(lambda: SmtpSession(
            settings.host, settings.port, security=settings.security, timeout=settings.timeout,
            tls_context=tls_context, local_hostname=hostname,
            username=settings.username, password=settings.password if settings.username else "",
        ), settings.connections)

    async def send(self, message: Outgoing) -> None:
        """One transaction on a pooled connection; returns when the server accepted the message."""
        envelope = envelope_commands(message)
        if self.limiter is not None:
            await self.limiter.wait()
        connection = await self._pool.take(message.message_id)
        try:
            reused = connection.session.is_open
            if not reused:
                connection.primed = None  # whatever was begun went with the old connection
                await self.backoff.wait(id(connection))
                await self._connect(connection.session)
            try:
                await self._transaction(connection, envelope, message)
            except _IdleConnectionLost:
                if not reused:
                    raise
                # The server closed the connection while it waited between messages (an idle time-out):
                # nothing of this message went, so it goes on a new connection instead of being deferred.
                connection.drop()
                await self._connect(connection.session)
                await self._transaction(connection, envelope, message)
        except SessionFailure:
            connection.primed = None
            self.backoff.failed(id(connection))
            raise
        except DeliveryError:
            raise
        except TimeoutError as exc:
            connection.drop()
            raise TemporaryFailure(f"the server did not answer within {self.settings.timeout:g} s ([smtp] timeout)",
                                   recipient=redact(message.recipient)) from exc
        except ConnectionError as exc:
            connection.drop()
            self.backoff.failed(id(connection))
            raise TemporaryFailure(_LOST, recipient=redact(message.recipient)) from exc
        except OSError as exc:
            connection.drop()
            raise TemporaryFailure(f"the SMTP session broke: {redact_text(str(exc))}",
                                   recipient=redact(message.recipient)) from exc
        except BaseException:
            # Cancelled mid-transaction, or `ready` failed: the next message must not inherit this session.
            connection.drop()
            raise
        else:
            self.backoff.succeeded(id(connection))
        finally:
            self._pool.give_back(connection)

    def share(self, senders: int) -> None:
        """Keep `rate_per_second` for the whole send when `senders` processes share it."""
        if self.limiter is not None:
            self.limiter.share(senders)

    async def close(self) -> None:
        """QUIT every open connection; call it after every send has returned."""
        for connection in self._pool.connections:
            if connection.primed is not None:
                connection.drop()  # its DATA is open: a QUIT would be read as the message's first line
        await asyncio.gather(*(c.session.quit() for c in self._pool.connections if c.session.is_open))

    async def _connect(self, session: SmtpSession) -> None:
        where = f"{self.settings.host}:{self.settings.port}"
        try:
            await session.open()
        except SessionRefused as exc:
            session.abort()
            if exc.step == "auth":
                raise RelayRefusal(
                    f"{where} refused the login of [smtp] username {self.settings.username!r}: "
                    f"{redact_text(exc.text)}; check it and NEWSLETTER_SMTP_PASSWORD",
                    code=exc.code,
                ) from exc
            if exc.step == "starttls" and exc.code == 0:
                raise SessionFailure(f"cannot connect to {where}: {exc.text}; check [smtp] host, port and "
                                     f"security ({self.settings.security!r})") from exc
            raise SessionFailure(f"{where} turned the connection away: {redact_text(exc.text)}",
                                 code=exc.code) from exc
        except TimeoutError as exc:
            session.abort()
            raise SessionFailure(f"{where} did not answer within {self.settings.timeout:g} s "
                                 "([smtp] timeout)") from exc
        except OSError as exc:
            session.abort()
            raise SessionFailure(f"cannot connect to {where}: {exc}; check [smtp] host, port "
                                 f"and security ({self.settings.security!r})") from exc
        log.debug("smtp: connected to %s", where)

    async def _transaction(self, connection: Connection, envelope: bytes, message: Outgoing) -> None:
        session = connection.session
        address = message.recipient
        pipelining = session.offers("PIPELINING")
        await _checkenvelope_commands(session, await _begin(connection, envelope, message), address)

        body = stuffed_data(message)
        if message.ready is not None and not message.ready.done():
            # Its write was asked for before DATA, but the replies may have been read without a pause
            # for it to run: one turn of the loop lets a quick write (SQLite's, on the loop) finish, so
            # the body, the "." and the next message's commands go in one write instead of two.
            await asyncio.sleep(0)
        if message.ready is not None and not message.ready.done():
            # The previous outcome is still being written: the body may go meanwhile, since only the "."
            # lets the server accept the message. If `ready` raises, the "." never goes.
            session.write(body)
            body = b""
            await message.ready
        elif message.ready is not None:
            await message.ready  # done: returns at once, or raises if its write failed
        if body and session.closed_by_server:
            # It answered the envelope (begun while the connection waited) and then hung up: nothing
            # of the message went, so it may go on a new connection.
            raise _IdleConnectionLost("the server closed the connection before the message's data")
        following = _following(message, session) if pipelining else None
        session.write(body, b".\r\n", following[1] if following else b"")
        if following:
            connection.primed = following[0]
        reply = await session.reply()
        if reply.code == 250:
            return
        if reply.code == CLOSING or not 400 <= reply.code < 600:
            connection.drop()  # the server is leaving, or we are out of step: a fresh connection is better
        raise _refusal(reply.code, reply.text, address, "the message")


async def _begin(connection: Connection, envelope: bytes, message: Outgoing) -> list[Reply]:
    """The replies to MAIL, RCPT and DATA: written now (together when the server pipelines), or
    already written behind the previous message's end."""
    session = connection.session
    primed, connection.primed = connection.primed == message.message_id, None
    if not primed and needs_smtputf8(message) and not session.offers("SMTPUTF8"):
        raise PermanentFailure("the address is not ASCII and the server does not offer SMTPUTF8",
                               recipient=redact(message.recipient))
    if not primed and not session.offers("PIPELINING"):
        return await _lock_step(session, envelope, message)
    if not primed:
        session.write(fit_options(envelope, session))
    if message.ready is not None:
        message.ready.start()  # the previous outcome's write runs while the server answers
    return await _first_replies(session, 3)


def _following(message: Outgoing, session: SmtpSession) -> tuple[str, bytes] | None:
    """The next message's key and commands, to write behind this one's "." (None: it cannot be begun now)."""
    after = message.following
    if after is None or (needs_smtputf8(after) and not session.offers("SMTPUTF8")):
        return None
    try:
        commands = envelope_commands(after)
    except DeliveryError:
        return None  # its own send says what is wrong with it
    return after.message_id, fit_options(commands, session)


class _IdleConnectionLost(ConnectionResetError):
    """The connection was gone before the server answered anything of this message."""


async def _first_replies(session: SmtpSession, count: int) -> list[Reply]:
    """Up to `count` replies, in order (fewer after a 421: `SmtpSession.replies`), where a connection
    found closed at the first reply is `_IdleConnectionLost`."""
    try:
        return await session.replies(count)
    except NoReply as lost:
        raise _IdleConnectionLost(str(lost)) from lost


async def _lock_step(session: SmtpSession, envelope: bytes, message: Outgoing) -> list[Reply]:
    """MAIL, RCPT and DATA one at a time, each waiting for its reply, for a server without PIPELINING."""
    mail, rcpt, data = fit_options(envelope, session).splitlines(keepends=True)[:3]
    session.write(mail)
    replies = await _first_replies(session, 1)
    if replies[-1].code != 250:
        return replies
    replies.append(await session.command(rcpt.rstrip(b"\r\n")))
    if replies[-1].code not in _ACCEPTED_RCPT:
        return replies
    if message.ready is not None:
        message.ready.start()  # its write runs while the server answers DATA
    replies.append(await session.command(data.rstrip(b"\r\n")))
    return replies


async def _checkenvelope_commands(session: SmtpSession, replies: list[Reply], address: str) -> None:
    """Raise for the first refusal among MAIL, RCPT and DATA; return when DATA may carry the body."""
    mail, *rest = replies
    if mail.code != 250:
        await _end_refused(session, replies)
        # Never a bounce; a permanent refusal of our sender meets every message, so it stops the send.
        refused = RelayRefusal if 500 <= mail.code < 600 else SessionFailure
        raise refused(f"the server refused the sender: {redact_text(mail.text)}; "
                      "check [newsletter] from_address", code=mail.code)
    rcpt = rest[0]
    if rcpt.code not in _ACCEPTED_RCPT:
        await _end_refused(session, replies)
        raise _refusal(rcpt.code, rcpt.text, address, "the recipient")
    data = rest[1]
    if data.code != _START_INPUT:
        await _end_refused(session, replies)
        raise _refusal(data.code, data.text, address, "the message")


async def _end_refused(session: SmtpSession, replies: list[Reply]) -> None:
    """End a refused transaction so the connection can carry the next message, or close it."""
    codes = [reply.code for reply in replies]
    if _START_INPUT in codes or CLOSING in codes or not all(200 <= code < 600 for code in codes):
        # A DATA accepted behind a refusal would take whatever we wrote next as the message; a 421 closes
        # the session; any other code means we may be out of step.
        session.abort()
        return
    if _TOO_MANY_RECIPIENTS in codes:
        await session.quit()  # a quota on this session: the next message is better off on a fresh one
        return
    try:
        reply = await session.command(b"RSET")
    except (OSError, TimeoutError):
        session.abort()
        return
    if reply.code != 250:
        session.abort()


def _refusal(code: int, text: str, address: str, what: str) -> DeliveryError:
    if refuses_us(code, text):
        return RelayRefusal(f"the relay refused to send for us: {code} {redact_text(text)}", code=code)
    permanent = 500 <= code < 600
    verb = "refused" if permanent else "deferred"
    failure = PermanentFailure if permanent else TemporaryFailure
    return failure(f"the server {verb} {what}: {redact_text(text)}", code=code, recipient=redact(address))
