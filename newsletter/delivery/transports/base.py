"""What the sender hands a transport, and the small interface every transport offers.

The sender depends on `Transport` alone: `outbox` writes files, `smtp` talks to a relay, and the ledger
logic cannot tell them apart. A transport raises `TemporaryFailure` (try again later) or
`PermanentFailure` (this recipient will not take it); anything it returns from is accepted.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, Protocol

CRLF = b"\r\n"


class Ready(Protocol):
    """A write that must be in before a message can be accepted (the outcome of the one before it)."""

    def start(self) -> None:
        """Begin the write now, if it has not begun: a transport calls it a step before it needs it."""
        ...

    def done(self) -> bool:
        """True once the write has ended (awaiting it then returns or raises at once)."""
        ...

    def __await__(self) -> Generator[Any, None, None]:
        ...


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for one recipient, ready to go.

    `data` is the complete RFC 5322 message with CRLF line endings. It is NOT dot-stuffed unless
    `dot_stuffed` is set: a caller that builds every message from a template stuffed once with
    `dot_stuff` sets it, and the SMTP transport then sends the bytes untouched.

    `ready`, when given, is awaited before the message can be accepted (over SMTP before the final "."
    of DATA, in the outbox before the file is written): the sender passes the write of its previous
    outcome, so that write overlaps this message's first steps and still comes before its acceptance.
    A transport may `start` it early (SMTP does before DATA, so it is usually done by the time the body
    goes out). If it raises, the message is not sent and the error goes to the caller.

    `following`, when given, is the message the caller will send next, right after this one returns: a
    transport may begin it early (SMTP with PIPELINING writes its MAIL, RCPT and DATA behind this one's
    final "."), never accept it early. If it is not sent after all, the transport drops what it began.
    """

    sender: str  # envelope MAIL FROM
    recipient: str  # the one RCPT TO
    data: bytes
    message_id: str  # e.g. "<2026-W47.42.ab12@example.org>", for file names and logs
    dot_stuffed: bool = False
    ready: Ready | None = field(default=None, compare=False)
    following: Outgoing | None = field(default=None, compare=False)

    def in_order(self, ready: Ready | None, following: Outgoing | None) -> Outgoing:
        """This message with its place among a worker's messages (`dataclasses.replace` costs several
        times as much, once per message)."""
        return Outgoing(self.sender, self.recipient, self.data, self.message_id, self.dot_stuffed, ready, following)


class Transport(Protocol):
    """Delivers one message at a time; safe to call from many tasks at once."""

    async def send(self, message: Outgoing) -> None:
        """Return once the message is accepted; raise TemporaryFailure or PermanentFailure otherwise."""
        ...

    def share(self, senders: int) -> None:
        """Pace as one of `senders` processes sending one issue, so a configured rate holds for them all."""
        ...

    async def close(self) -> None:
        """Release connections and files; call after every send has returned."""
        ...


def dot_stuff(data: bytes) -> bytes:
    """SMTP transparency (RFC 5321 4.5.2): a line starting with "." gets another; the data ends in CRLF.

    Apply it once to an issue's template: splicing personal values into stuffed bytes keeps them
    stuffed as long as no spliced value starts a line with "." or contains a line break.
    """
    stuffed = data.replace(b"\n.", b"\n..")
    if stuffed.startswith(b"."):
        stuffed = b"." + stuffed
    if not stuffed.endswith(CRLF):
        stuffed += CRLF
    return stuffed


def dot_unstuff(stuffed: bytes) -> bytes:
    """The message as the recipient sees it: the inverse of `dot_stuff`."""
    data = stuffed.replace(b"\n..", b"\n.")
    return data[1:] if data.startswith(b"..") else data
