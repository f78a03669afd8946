"""One commit of outcomes into the ledger, as cheap as the database allows.

On SQLite it runs on the event loop itself, on a connection of its own: a commit in WAL mode costs tens of
microseconds, and handing each one to a thread costs more than the commit (the GIL goes back and forth).
That connection waits at most a moment for a lock; when the database is busier than that, the commit goes
to a thread, where it waits, patiently, as long as the send waits for its database. On PostgreSQL every
commit goes to a thread: it is a round trip to the server.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, Engine, exc

from newsletter.db.transient import Patient, is_transient
from newsletter.delivery import ledger
from newsletter.delivery.ledger import Outcome

_INLINE_BUSY_MS = 20


class OutcomeCommits:
    """Commits lists of outcomes (`await commits(outcomes)`); `close` when the send ends."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime], patient: Patient) -> None:
        self._engine = engine
        self._clock = clock
        self._patient = patient
        self._inline = _inline_connection(engine)

    async def __call__(self, outcomes: list[Outcome]) -> None:
        if self._inline is not None:
            try:
                with self._inline.begin():
                    ledger.record(self._inline, outcomes, self._clock())
                return
            except exc.OperationalError as error:
                if not is_transient(error):
                    raise
        await self._patient(lambda: self._record(outcomes), "recording outcomes")

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
    """On SQLite, a connection of its own for writing outcomes on the event loop, which waits at
    most a moment for a lock (then the write goes to a thread, where it may wait longer)."""
    if engine.dialect.name != "sqlite":
        return None
    connection = engine.connect()
    with connection.begin():
        connection.exec_driver_sql(f"PRAGMA busy_timeout={_INLINE_BUSY_MS}")
    return connection
