"""A real SMTP server (aiosmtpd) on 127.0.0.1 at a free port, with faults a test injects by name.

Async tests start it in their own event loop (`async with SmtpServer() as server`); tests that run
the CLI, which starts its own loop, use `serve_in_thread()`. Faults live in `server.faults` and may be
changed while the server runs; `server.received` lists what was accepted, `server.connections`
counts the connections it took and `server.open_connections` those still open. `server.on_received`
runs after a message is recorded and before the client hears "250", the moment a crash test kills at.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients on this connection"


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    sender: str
    recipients: tuple[str, ...]
    mail_options: tuple[str, ...]  # MAIL FROM parameters, e.g. ("SIZE=1234", "BODY=8BITMIME")
    data: bytes  # as stored: dot-stuffing undone, CRLF kept
    connection: int  # 1 for the server's first connection, 2 for the next, ...
    login: str  # the AUTH user name, "" without AUTH
    tls: bool


@dataclass
class Faults:
    """What the server does wrong; the defaults do nothing wrong."""

    greeting: str = ""  # said instead of "220 ...", then the server hangs up, e.g. "421 4.3.2 Busy"
    mail: str = ""  # reply to every MAIL FROM, e.g. "553 5.7.1 Sender not allowed"
    rcpt: dict[str, str] = field(default_factory=dict)  # address -> reply to its RCPT TO, e.g. "550 ..."
    data: dict[str, str] = field(default_factory=dict)  # address -> reply at the end of its DATA
    drop_in_data: set[str] = field(default_factory=set)  # these messages are read, then the line is cut
    stall_rcpt: set[str] = field(default_factory=set)  # these RCPT TOs are never answered
    recipients_per_connection: int = 0  # more accepted RCPTs than this on one connection get a 452


class SmtpServer:
    """An in-process aiosmtpd server; STARTTLS when given `tls_context`, TLS from the start with
    `implicit_tls`, AUTH (PLAIN/LOGIN, allowed without TLS) checked against `logins`, and SMTPUTF8
    (non-ASCII addresses) only when `smtputf8` is set. It announces PIPELINING (RFC 2920) unless
    `pipelining` is False; aiosmtpd reads commands in order either way, so a client may pipeline.
    `reads` keeps the client's bytes as each read of the socket returned them: commands written
    together (pipelined) arrive in one read, commands sent in lock-step in one read each."""

    def __init__(self, *, tls_context: ssl.SSLContext | None = None, implicit_tls: bool = False,
                 logins: dict[str, str] | None = None, smtputf8: bool = False, pipelining: bool = True) -> None:
        self.faults = Faults()
        self.received: list[Received] = []
        self.on_received: Callable[[Received], None] | None = None
        self.connections = 0
        self.stalled = 0  # replies held back right now (see Faults.stall_rcpt)
        self.port = 0
        self._tls_context = tls_context
        self._implicit_tls = implicit_tls
        self._logins = logins or {}
        self._smtputf8 = smtputf8
        self.pipelining = pipelining
        self.reads: list[bytes] = []
        self._server: asyncio.Server | None = None
        self._sessions: set[_Session] = set()
        self._stopping = asyncio.Event()

    @property
    def host(self) -> str:
        return HOST

    @property
    def open_connections(self) -> int:
        return len(self._sessions)

    def recipients(self) -> Counter[str]:
        """How many copies each address received."""
        return Counter(address for message in self.received for address in message.recipients)

    async def start(self) -> None:
        """Listen on a free port (see `port`)."""
        loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._server = await loop.create_server(
            self._new_connection, HOST, 0, ssl=self._tls_context if self._implicit_tls else None
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening, release stalled replies and cut every open connection."""
        self._stopping.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self.hang_up()
        # Let connection_lost and the cancelled session tasks run to their end.
        await _wait_for(lambda: not self._sessions, 1.0)
        await asyncio.sleep(0)

    def hang_up(self) -> None:
        """Cut every open connection, as a server does to clients idle too long."""
        for session in list(self._sessions):
            session.hang_up()

    async def wait_until_idle(self, timeout: float = 5.0) -> bool:
        """Wait for every client to hang up; whether they all did."""
        return await _wait_for(lambda: not self._sessions, timeout)

    async def wait_for_stall(self, timeout: float = 5.0) -> bool:
        """Wait until a client is waiting on a stalled reply; whether one is."""
        return await _wait_for(lambda: self.stalled > 0, timeout)

    async def __aenter__(self) -> SmtpServer:
        await self.start()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.stop()

    def _new_connection(self) -> asyncio.Protocol:
        self.connections += 1
        if self.faults.greeting:
            return _Refusal(self.faults.greeting)
        return _Session(
            self,
            _Handler(self, self.connections),
            hostname="localhost",
            tls_context=None if self._implicit_tls else self._tls_context,
            auth_require_tls=False,
            authenticator=self._authenticate,
            enable_SMTPUTF8=self._smtputf8,
            loop=asyncio.get_running_loop(),
        )

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and self._logins.get(auth_data.login.decode()) == auth_data.password.decode())
        if ok:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)  # not handled: aiosmtpd answers 535


class _Session(SMTP):
    """aiosmtpd's session, tracked so `stop()` can cut it."""

    def __init__(self, owner: SmtpServer, handler: _Handler, **options: Any) -> None:
        super().__init__(handler, **options)
        self._owner = owner
        self._transports: set[asyncio.BaseTransport] = set()  # the TCP one, and the TLS one after STARTTLS

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transports.add(transport)
        self._owner._sessions.add(self)
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._owner.reads.append(data)
        super().data_received(data)

    def connection_lost(self, error: Exception | None) -> None:
        self._owner._sessions.discard(self)
        super().connection_lost(error)

    def hang_up(self) -> None:
        for transport in self._transports:
            transport.close()


class _Refusal(asyncio.Protocol):
    """Says one reply instead of the greeting and hangs up."""

    def __init__(self, reply: str) -> None:
        self._reply = reply.encode("ascii") + b"\r\n"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport on either loop (uvloop's are not asyncio.WriteTransport subclasses).
        cast(asyncio.WriteTransport, transport).write(self._reply)
        transport.close()


class _Handler:
    """aiosmtpd hooks for one connection: where the faults are injected and messages recorded."""

    def __init__(self, owner: SmtpServer, connection: int) -> None:
        self._owner = owner
        self._connection = connection
        self._accepted = 0

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        if self._owner.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        if self._owner.faults.mail:
            return self._owner.faults.mail
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        faults = self._owner.faults
        if address in faults.stall_rcpt:
            self._owner.stalled += 1
            try:
                await self._owner._stopping.wait()
            finally:
                self._owner.stalled -= 1
            return "421 4.3.2 Shutting down"
        if address in faults.rcpt:
            return faults.rcpt[address]
        if faults.recipients_per_connection and self._accepted >= faults.recipients_per_connection:
            return TOO_MANY_RECIPIENTS
        self._accepted += 1
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        faults = self._owner.faults
        for address in envelope.rcpt_tos:
            if address in faults.drop_in_data:
                assert server.transport is not None
                server.transport.close()
                await self._owner._stopping.wait()
            if address in faults.data:
                return faults.data[address]
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else ""
        received = Received(
            sender=envelope.mail_from or "",
            recipients=tuple(envelope.rcpt_tos),
            mail_options=tuple(envelope.mail_options),
            data=bytes(envelope.original_content or b""),
            connection=self._connection,
            login=login,
            tls=session.ssl is not None or self._owner._implicit_tls,
        )
        self._owner.received.append(received)
        if self._owner.on_received is not None:
            self._owner.on_received(received)
        return "250 2.0.0 OK queued"


async def _wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    return condition()


@contextmanager
def serve_in_thread(**options: Any) -> Iterator[SmtpServer]:
    """An `SmtpServer` running in a thread of its own, for tests whose code runs its own event loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="smtp-server", daemon=True)
    thread.start()
    server = SmtpServer(**options)
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=10)
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for localhost and 127.0.0.1, with the contexts both ends need."""

    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Trusts this certificate only, and checks the host name as a real client would."""
        return ssl.create_default_context(cafile=str(self.cert_file))


def self_signed_certificate(folder: Path) -> Certificate:
    """Generate a key and a certificate valid for a day into `folder`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return Certificate(cert_file, key_file)
