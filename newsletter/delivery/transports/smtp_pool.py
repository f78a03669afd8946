"""The SMTP transport's connections: opened when first needed, reused, and each one kept for the message
whose transaction was already begun on it.

With PIPELINING, the transport writes the next message's MAIL, RCPT and DATA right behind a message's
final "." (`smtp.py`), so that connection is "primed" for that next message: its DATA is open and only
that message's body may follow. `take` hands a primed connection to the message it was primed for; any
other message gets an unprimed one, and only when none is idle does it take a primed one, whose open
transaction is then dropped with the connection (nothing was accepted: the body never went).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from newsletter.delivery.transports.smtp_session import SmtpSession


@dataclass(eq=False)
class Connection:
    """A session, and the key of the message whose MAIL, RCPT and DATA were written on it (replies unread)."""

    session: SmtpSession
    primed: str | None = None

    def drop(self) -> None:
        """Close at once; an open transaction goes with it."""
        self.primed = None
        self.session.abort()


class ConnectionPool:
    """`size` connections; `take` one (waiting while all are busy), `give_back` it after each message."""

    def __init__(self, make: Callable[[], SmtpSession], size: int) -> None:
        self.connections = [Connection(make()) for _ in range(max(1, size))]
        # Last in, first out: a light load keeps reusing one connection instead of opening them all.
        self._idle: list[Connection] = list(reversed(self.connections))
        self._available = asyncio.Semaphore(len(self.connections))

    async def take(self, key: str) -> Connection:
        """The connection primed for `key` if idle, else an idle unprimed one, else any idle one (dropped)."""
        await self._available.acquire()
        for index, connection in enumerate(self._idle):
            if connection.primed == key:
                return self._idle.pop(index)
        for index in range(len(self._idle) - 1, -1, -1):
            if self._idle[index].primed is None:
                return self._idle.pop(index)
        # Every idle connection waits for another message, which was not sent (or not yet): take the
        # one primed longest ago.
        connection = self._idle.pop(0)
        connection.drop()
        return connection

    def give_back(self, connection: Connection) -> None:
        self._idle.append(connection)
        self._available.release()
