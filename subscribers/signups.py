"""Sign-ups as the form posted them, queued for the outbox worker to act on.

Whatever state an address is in (new, pending, confirmed, unsubscribed, bounced), its sign-up costs the
request the same work: one sealed row inserted here, then a wake for the worker. Finding out which state
it is, and whether a confirmation email is due, happens in the worker, where no visitor can time it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Engine, Table, delete, insert, select, text

from subscribers.tables import SignupRow, utcnow

SIGNUPS = cast(Table, SignupRow.__table__)
_ADD = insert(SIGNUPS)  # built once: its compiled form is reused by every burst
_PROBE = {"blind_index": "health-check", "address": b"", "consent_form": "health", "consent_text_version": "-"}


@dataclass(frozen=True, repr=False)
class Queued:
    """One sign-up waiting for the worker; the address is sealed under `blind_index`."""

    blind_index: str
    address: bytes
    consent_form: str
    consent_text_version: str
    created_at: datetime

    def __repr__(self) -> str:
        return "Queued(<sealed>)"


_COLUMNS = tuple(field.name for field in fields(Queued))


def append(conn: Connection, signups: Sequence[Queued]) -> None:
    """Queue sign-ups inside the caller's transaction: one INSERT however many there are."""
    if signups:
        # Not dataclasses.asdict: it deep-copies every value, a quarter of this INSERT's time under load.
        conn.execute(_ADD, [{name: getattr(signup, name) for name in _COLUMNS} for signup in signups])


def take(conn: Connection, limit: int) -> list[Queued]:
    """Remove and return up to `limit` of the oldest sign-ups, inside the caller's transaction.

    If the caller's transaction fails, they are back in the queue. On PostgreSQL, rows another worker
    holds are skipped, so workers on several machines share the queue without waiting for each other.
    """
    oldest = select(SIGNUPS.c.id).order_by(SIGNUPS.c.id).limit(limit).with_for_update(skip_locked=True)
    columns = [SIGNUPS.c.id, SIGNUPS.c.blind_index, SIGNUPS.c.address, SIGNUPS.c.consent_form,
               SIGNUPS.c.consent_text_version, SIGNUPS.c.created_at]
    rows = conn.execute(delete(SIGNUPS).where(SIGNUPS.c.id.in_(oldest)).returning(*columns)).all()
    return [Queued(row.blind_index, row.address, row.consent_form, row.consent_text_version, row.created_at)
            for row in sorted(rows, key=lambda row: row.id)]


def forget(conn: Connection, blind_index: str) -> None:
    """Drop the waiting sign-ups of one address (it is being erased)."""
    conn.execute(delete(SIGNUPS).where(SIGNUPS.c.blind_index == blind_index))


def check_writable(engine: Engine, wait_ms: int) -> None:
    """Raise unless a sign-up could be queued right now: the same INSERT, rolled back.

    Reads go on while another process holds SQLite's write lock, so only a write tells; it gives up
    after `wait_ms` instead of the usual lock wait, so that a monitor gets its answer in time.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            previous = int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one())
            conn.exec_driver_sql(f"PRAGMA busy_timeout={int(wait_ms)}")
        else:
            conn.execute(text(f"SET LOCAL lock_timeout = {int(wait_ms)}"))
        try:
            conn.execute(_ADD, {**_PROBE, "created_at": utcnow()})
        finally:
            conn.rollback()
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql(f"PRAGMA busy_timeout={previous}")
