"""One commit of outcomes into the ledger, as cheap as the database allows.

On SQLite it runs on the event loop itself, on a connection of its own, through the driver directly
(`ledger.QuickRecord`): a commit in WAL mode costs tens of microseconds, and handing each one to a thread,
or to SQLAlchemy's statement machinery, costs more than the commit. That connection never waits for a
lock: when another connection holds it (a claim of the next batch, in a thread) or the commit fails in
any way, the commit goes to a thread, through SQLAlchemy, where it waits, patiently, as long as the send
waits for its database, and where an error that is not a matter of waiting is told as usual; the event
loop meanwhile serves the other connections (a wait of SQLite's busy handler on the loop held them
all: on a 10,000-message send, tens of commits of up to 20 ms). Nor does it checkpoint the WAL.
On PostgreSQL every commit goes to a thread: it is a round trip to the server.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, Engine

from newsletter.db.transient import Patient
from newsletter.delivery import ledger
from newsletter.delivery.ledger import Outcome, QuickRecord

_INLINE_BUSY_MS = 0


class OutcomeCommits:
    """Commits lists of outcomes (`await commits(outcomes)`); `close` when the send ends."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime], patient: Patient) -> None:
        self._engine = engine
        self._clock = clock
        self._patient = patient
        self._inline = _inline_connection(engine)
        self._quick = QuickRecord(engine.dialect) if self._inline is not None else None

    async def __call__(self, outcomes: list[Outcome]) -> None:
        if self._inline is not None and self._inline_commit(self._inline, outcomes):
            return
        await self._patient(lambda: self._record(outcomes), "recording outcomes")

    def _inline_commit(self, inline: Connection, outcomes: list[Outcome]) -> bool:
        """Commit on the event loop; False when SQLite said no (busy, or anything else): try in a thread."""
        driver = inline.connection.dbapi_connection
        if driver is None or self._quick is None:
            return False
        cursor = driver.cursor()
        try:
            self._quick(cursor, outcomes, self._clock())
            driver.commit()
            return True
        except sqlite3.Error:  # the thread's path tells an error that is not a matter of waiting properly
            with contextlib.suppress(sqlite3.Error):
                driver.rollback()
            return False
        finally:
            cursor.close()

    def close(self) -> None:
        if self._inline is not None:
            self._inline.invalidate()  # its short busy timeout must not go back to the pool
            self._inline.close()
            self._inline = None

    def _record(self, outcomes: list[Outcome]) -> None:
        # A plain connection: this runs for every few messages, and a Session costs several times as much.
        with self._engine.begin() as connection:
            ledger.record(connection, outcomes, self._clock())


def _inline_connection(engine: Engine) -> Connection | None:
    """On SQLite, a connection of its own for writing outcomes on the event loop, which does not wait
    for a lock (the write then goes to a thread, where it may wait longer)."""
    if engine.dialect.name != "sqlite":
        return None
    connection = engine.connect()
    with connection.begin():
        connection.exec_driver_sql(f"PRAGMA busy_timeout={_INLINE_BUSY_MS}")
        # A commit that passes the WAL's 1,000 pages copies them into the database and syncs it (tens of
        # milliseconds, every few hundred commits): not on the event loop. The send's other connections,
        # which commit in threads (claims, lookups, leases), still do it when their commit passes the mark.
        connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
    return connection
