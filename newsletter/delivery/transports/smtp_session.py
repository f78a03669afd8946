"""One SMTP client connection on asyncio streams: the greeting, EHLO, STARTTLS or TLS, AUTH, and replies
read in the order the commands were written.

Why not aiosmtplib any more: its protocol hands out one reply per command and drops bytes that arrive
while no reply is awaited, so replies to commands written together (PIPELINING, RFC 2920) are lost, and
making it keep them would mean patching its internals. An asyncio `StreamReader` keeps every byte in
order, which is all pipelining needs; connecting, STARTTLS (`StreamWriter.start_tls`) and AUTH PLAIN or
LOGIN are a few dozen lines here. Nothing in this module decides what a reply means for a message:
`smtp.py` does.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import socket
import ssl
from dataclasses import dataclass

_MAX_REPLY_LINES = 100
_MAX_LINE_BYTES = 2048  # a reply line longer than this, still without its end, is not SMTP (RFC 5321: 512)
_READ_BYTES = 65536
CLOSING = 421  # the server is closing the session (RFC 5321 3.8): nothing after it will be answered


@dataclass(frozen=True, slots=True)
class Reply:
    code: int
    text: str


class SessionRefused(Exception):
    """The server refused a step of opening the session (`step`: greeting, ehlo, starttls, auth);
    `smtp.py` turns it into the pipeline's errors."""

    def __init__(self, step: str, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.step = step
        self.code = code
        self.text = text


class NoReply(ConnectionResetError):
    """The connection was closed before the first of the replies asked for (nothing was answered)."""


class SmtpSession:
    """A connection to one server; `open` it, then `write` commands and read each `reply` in turn."""

    def __init__(self, host: str, port: int, *, security: str, timeout: float,
                 tls_context: ssl.SSLContext | None, local_hostname: str | None,
                 username: str = "", password: str = "") -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self._security = security
        self._tls_context = tls_context
        self._local_hostname = local_hostname
        self._username = username
        self._password = password
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._unread = b""  # what the server sent that no reply asked for yet
        self.extensions: dict[str, str] = {}

    @property
    def is_open(self) -> bool:
        """Connected, as far as we know: the server may have closed it since we last read from it."""
        return self._writer is not None and not self._writer.is_closing() and not self.closed_by_server

    @property
    def closed_by_server(self) -> bool:
        """Every reply has been read and the server has closed its end."""
        return self._reader is not None and not self._unread and self._reader.at_eof()

    def offers(self, extension: str) -> bool:
        return extension.upper() in self.extensions

    async def open(self) -> None:
        """Connect, read the greeting, say EHLO (HELO if refused), STARTTLS and AUTH as configured.

        Raises SessionRefused, TimeoutError, ConnectionError or another OSError (ssl.SSLError among them).
        """
        self.abort()  # a connection the server closed is let go of properly before the new one
        tls = self._security == "tls"
        context = self._context() if tls else None
        self._reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, ssl=context,
                                    server_hostname=self.host if tls else None),
            self.timeout)
        self._writer = writer
        await self._expect("greeting", await self.reply(), 220)
        await self._hello()
        if self._security == "starttls":
            if not self.offers("STARTTLS"):
                raise SessionRefused("starttls", 0, "STARTTLS extension not supported by the server")
            await self._expect("starttls", await self.command(b"STARTTLS"), 220)
            if self._unread:
                # Bytes sent in the clear behind the 220 would be read as if they came over TLS.
                raise SessionRefused("starttls", 0, "the server sent more than its reply to STARTTLS")
            await asyncio.wait_for(writer.start_tls(self._context(), server_hostname=self.host),
                                   self.timeout)
            await self._hello()
        if self._username:
            await self._login()

    def write(self, *pieces: bytes) -> None:
        """Write `pieces` in order, as one write: uvloop hands them to the kernel together (writev), so
        a message's body is not copied to add the "." and the next commands behind it."""
        if self._writer is None or self._writer.is_closing():
            raise ConnectionResetError("the connection is closed")
        self._writer.writelines(pieces)

    async def reply(self) -> Reply:
        """The next reply, however many lines it has; raises TimeoutError or ConnectionError."""
        return (await self.replies(1))[0]

    async def replies(self, count: int) -> list[Reply]:
        """The next `count` replies, fewer when one says the server is closing (421); raises TimeoutError,
        ConnectionError, or `NoReply` when the connection was closed before the first of them.

        They answer commands written together, so they are read within one `timeout`, not one each,
        and parsed from what each read brought: the replies to a message's "." and to the next one's
        MAIL, RCPT and DATA mostly come in one packet, read once (a read and a time-out cost more
        than parsing a line).
        """
        reader = self._reader
        if reader is None:
            raise ConnectionResetError("the connection is closed")
        found: list[Reply] = []
        async with asyncio.timeout(self.timeout):  # no task, unlike wait_for
            while len(found) < count:
                reply, self._unread = _parse_reply(self._unread)
                if reply is None:
                    received = await reader.read(_READ_BYTES)
                    if not received:
                        lost = "the server closed the connection"
                        raise ConnectionResetError(lost) if found else NoReply(lost)
                    self._unread += received
                    continue
                found.append(reply)
                if reply.code == CLOSING:
                    break
        return found

    async def command(self, line: bytes) -> Reply:
        self.write(line + b"\r\n")
        return await self.reply()

    async def quit(self) -> None:
        """Say QUIT and close; never raises."""
        try:
            if self.is_open:
                await self.command(b"QUIT")
        except (OSError, TimeoutError):
            pass
        finally:
            self.abort()

    def abort(self) -> None:
        """Close at once, without a word: whatever transaction was open is dropped by the server."""
        if self._writer is not None:
            self._writer.transport.abort()
        self._reader = self._writer = None
        self._unread = b""
        self.extensions = {}

    def _context(self) -> ssl.SSLContext:
        return self._tls_context or ssl.create_default_context()

    async def _hello(self) -> None:
        name = (self._local_hostname or default_hostname()).encode("idna")
        reply = await self.command(b"EHLO " + name)
        if reply.code == 250:
            self.extensions = _extensions(reply.text)
            return
        if reply.code == 421:
            raise SessionRefused("ehlo", reply.code, reply.text)
        self.extensions = {}
        await self._expect("helo", await self.command(b"HELO " + name), 250)

    async def _login(self) -> None:
        user, password = self._username.encode("utf-8"), self._password.encode("utf-8")
        mechanisms = self.extensions.get("AUTH", "").upper().split()
        if "PLAIN" in mechanisms or "LOGIN" not in mechanisms:
            token = base64.b64encode(b"\0" + user + b"\0" + password)
            await self._expect("auth", await self.command(b"AUTH PLAIN " + token), 235)
            return
        await self._expect("auth", await self.command(b"AUTH LOGIN"), 334)
        await self._expect("auth", await self.command(base64.b64encode(user)), 334)
        await self._expect("auth", await self.command(base64.b64encode(password)), 235)

    async def _expect(self, step: str, reply: Reply, code: int) -> None:
        if reply.code != code:
            raise SessionRefused(step, reply.code, reply.text)


def _parse_reply(data: bytes) -> tuple[Reply | None, bytes]:
    """The first whole reply in `data` and what follows it, or (None, data) while it is incomplete.

    Raises ConnectionResetError for what no SMTP server sends: a line that is not a reply, a line
    that runs past `_MAX_LINE_BYTES` without ending, or a reply of `_MAX_REPLY_LINES` lines or more.
    """
    lines: list[bytes] = []
    start = 0
    while True:
        end = data.find(b"\n", start)
        if end < 0:
            if len(data) - start > _MAX_LINE_BYTES:
                raise ConnectionResetError("the server sent a reply line too long")
            return None, data
        line = data[start:end + 1]
        start = end + 1
        if len(line) < 4 or not line[:3].isdigit():
            raise ConnectionResetError(f"the server answered out of protocol: {line[:60]!r}")
        if line[3:4] != b"-":
            rest = data[start:]
            if lines:
                lines.append(line)
                return Reply(int(line[:3]), "\n".join(part[4:].strip().decode("utf-8", "replace")
                                                     for part in lines)), rest
            return Reply(int(line[:3]), line[4:].strip().decode("utf-8", "replace")), rest  # most: one line
        lines.append(line)
        if len(lines) >= _MAX_REPLY_LINES:
            raise ConnectionResetError("the server sent a reply of too many lines")


def _extensions(text: str) -> dict[str, str]:
    """EHLO's lines after the first, as {"SIZE": "10240000", "PIPELINING": ""}."""
    found: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        name, _, value = line.strip().partition(" ")
        if name:
            found[name.upper()] = value
    return found


@functools.cache
def default_hostname() -> str:
    """The name this machine gives in EHLO: its fully qualified name, as most clients say (looked up
    once, when the first connection opens)."""
    return socket.getfqdn()
