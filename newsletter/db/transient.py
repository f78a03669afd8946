"""Database errors worth waiting out, and a patient way to run one database step.

Transient: SQLite busy or locked past its busy timeout, an I/O error, a full disk, a file it cannot open
right now; PostgreSQL connections lost or refused (classes 08 and 57), resources exhausted (53, disk
full and too many connections among them) and transactions to try again (40). Anything else (a missing
table, a broken constraint) is a bug or a wrong database, and waiting would not help.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from sqlalchemy import exc

from newsletter.errors import DatabaseUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

# SQLite primary result codes: BUSY, LOCKED, IOERR, FULL, CANTOPEN, PROTOCOL.
_SQLITE_TRANSIENT = frozenset({5, 6, 10, 13, 14, 15})
_SQLSTATE_TRANSIENT = frozenset({"08", "40", "53", "57"})
_FIRST_DELAY = 0.05
_LONGEST_DELAY = 2.0
_SHOWN = 160  # characters of the driver's message kept in what users see


class Patient(Protocol):
    """`patiently` with the caller's patience: runs a blocking database step, waiting out a database
    that is away."""

    def __call__(self, step: Callable[[], T], doing: str) -> Awaitable[T]: ...


def is_transient(error: BaseException) -> bool:
    """Whether `error` is a database error that may go away if the step is tried again later: the
    driver's own, or one raised in its place that says so (`transient`, as the subscriber store's
    StoreError does, having dropped the driver's message, which can quote parameters)."""
    if not isinstance(error, exc.DBAPIError):
        return getattr(error, "transient", False) is True
    if error.connection_invalidated:
        return True
    code = getattr(error.orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _SQLITE_TRANSIENT
    state = getattr(error.orig, "sqlstate", None)
    if isinstance(state, str) and state:
        return state[:2] in _SQLSTATE_TRANSIENT
    # No code at all: psycopg's "connection refused" and "server closed the connection" are like this.
    return isinstance(error, exc.OperationalError | exc.InterfaceError)


def problem(error: BaseException) -> str:
    """The driver's own words, first line only: never the SQL, never its parameters."""
    orig = error.orig if isinstance(error, exc.DBAPIError) else error
    line = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    return line if len(line) <= _SHOWN else line[:_SHOWN - 1] + "…"


async def patiently(step: Callable[[], T], *, patience: float, doing: str,
                    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                    clock: Callable[[], float] = time.monotonic) -> T:
    """Run the blocking `step` in a thread; on a transient error try again with backoff for up to
    `patience` seconds, then raise DatabaseUnavailable (one line, fit for a user).

    `step` must be safe to repeat: a transaction that failed was rolled back, or its effect is idempotent.
    """
    deadline = clock() + patience
    delay = _FIRST_DELAY
    failing: str | None = None
    while True:
        try:
            result = await asyncio.to_thread(step)
        except Exception as error:
            if not is_transient(error):
                raise
            if failing is None:
                failing = problem(error)
                log.warning("the database is unavailable while %s (%s); trying again for up to %g s",
                            doing, failing, patience, extra={"event": "database.unavailable"})
            if clock() + delay > deadline:
                raise DatabaseUnavailable(doing, patience, problem(error)) from None
            await sleep(delay)
            delay = min(delay * 2, _LONGEST_DELAY)
            continue
        if failing is not None:
            log.info("the database is back (%s)", doing, extra={"event": "database.back"})
        return result
