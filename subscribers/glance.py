"""The list's counts for a command that only looks (`newsletter subscribers stats`), read through the driver.

`store.py` (subscribers) and `outbox.py` (the confirmation emails) own those tables and answer the same
through SQLAlchemy; this is their read-only window for a process that has not imported it (why: see
`newsletter/db/reader.py`). Counting needs no address and so no key: nothing here opens one. Tests
(`tests/subscribers/test_glance.py`) hold the answers together on SQLite and PostgreSQL.
"""

from __future__ import annotations

from newsletter.db.reader import Reader
from subscribers.states import SUPPRESSED, SUPPRESSION_FORM, MailState, Status


def statuses(reader: Reader) -> dict[Status, int]:
    """How many subscribers are in each status; every status is present."""
    found = dict(reader.rows("SELECT status, count(*) FROM subscribers GROUP BY status"))
    return {status: int(found.get(status.value, 0)) for status in Status}


def mail_states(reader: Reader) -> dict[MailState, int]:
    """How many confirmation emails are in each state; every state is present."""
    found = dict(reader.rows("SELECT state, count(*) FROM outbox GROUP BY state"))
    return {state: int(found.get(state.value, 0)) for state in MailState}


def suppressions(reader: Reader) -> tuple[dict[Status, int], int]:
    """Suppressed rows by reason, and how many of them were imported as suppression only."""
    suppressed = tuple(status.value for status in SUPPRESSED)
    found = dict(reader.rows("SELECT status, count(*) FROM subscribers WHERE status IN :suppressed GROUP BY status",
                             suppressed=suppressed))
    imported = reader.scalar("SELECT count(*) FROM subscribers WHERE status IN :suppressed AND consent_form = :form",
                             suppressed=suppressed, form=SUPPRESSION_FORM)
    return {status: int(found.get(status.value, 0)) for status in SUPPRESSED}, int(imported)
