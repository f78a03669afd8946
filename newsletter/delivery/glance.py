"""The ledger's counts for a command that only looks (`newsletter status`), read through the driver.

`ledger.py` owns the deliveries table and answers the same questions through SQLAlchemy for the send;
this is its read-only window for a process that has not imported SQLAlchemy (`db/reader.py` says why).
The two must agree: `tests/newsletter/delivery/test_glance.py` asks both about the same ledger, on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from newsletter.db.reader import Reader
from newsletter.delivery.states import DeliveryState

REASONS_SHOWN = 20  # failure reasons shown by `status`, here and in ledger.failure_reasons


def counts(reader: Reader, issue_id: int) -> dict[DeliveryState, int]:
    """Rows per state; every state is present."""
    found = dict(reader.rows("SELECT state, count(*) FROM deliveries WHERE issue_id = :issue GROUP BY state",
                             issue=issue_id))
    return {state: int(found.get(state.value, 0)) for state in DeliveryState}


def failure_reasons(reader: Reader, issue_id: int, limit: int = REASONS_SHOWN) -> list[tuple[str, int]]:
    """The most common reasons rows failed or are deferred, with how many rows each."""
    rows = reader.rows(
        "SELECT reason, count(*) AS n FROM deliveries"
        " WHERE issue_id = :issue AND state IN :states AND reason IS NOT NULL"
        " GROUP BY reason ORDER BY n DESC, reason LIMIT :limit",
        issue=issue_id, states=(DeliveryState.FAILED.value, DeliveryState.DEFERRED.value), limit=limit)
    return [(str(reason), int(n)) for reason, n in rows]
