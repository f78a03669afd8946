"""The ledger's read-only window (`delivery/glance.py`, through the driver) answers as the ledger does."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from newsletter.db.reader import reading
from newsletter.delivery import glance, ledger
from newsletter.delivery.tables import DeliveryRow, DeliveryState
from newsletter.issues.tables import IssueRow

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
# More reasons than failure_reasons shows, several with the same count, so its order and cut are tested.
REASONS = [f"{code} mailbox {name} unavailable" for code in (450, 550) for name in "abcdefghijklm"]


def ledger_of_every_shape(engine: Engine) -> tuple[int, int]:
    """Two issues: one with rows in every state and many reasons (ties included), one nearly empty."""
    pick = random.Random(16)
    with Session(engine) as session, session.begin():
        busy = IssueRow(week="2026-W47", subject="busy", created_at=NOW)
        quiet = IssueRow(week="2026-W48", subject="quiet", created_at=NOW)
        session.add_all([busy, quiet])
        session.flush()
        for subscriber in range(600):
            state = pick.choice(list(DeliveryState))
            reason = pick.choice([*REASONS, None]) if state in (DeliveryState.FAILED, DeliveryState.DEFERRED) else None
            session.add(DeliveryRow(issue_id=busy.id, subscriber_id=subscriber, state=state, reason=reason))
        session.add(DeliveryRow(issue_id=quiet.id, subscriber_id=1, state=DeliveryState.PENDING))
        return busy.id, quiet.id


def test_counts_and_failure_reasons_agree_with_the_ledger(engine: Engine, database_url: str) -> None:
    issue_ids = ledger_of_every_shape(engine)
    with Session(engine) as session, reading(database_url) as reader:
        for issue_id in (*issue_ids, 999):
            assert glance.counts(reader, issue_id) == ledger.counts(session, issue_id)
            assert glance.failure_reasons(reader, issue_id) == ledger.failure_reasons(session, issue_id)
            assert glance.failure_reasons(reader, issue_id, limit=3) == ledger.failure_reasons(session, issue_id, 3)
    with reading(database_url) as reader:
        assert len(glance.failure_reasons(reader, issue_ids[0])) == glance.REASONS_SHOWN
        assert sum(glance.counts(reader, issue_ids[0]).values()) == 600
