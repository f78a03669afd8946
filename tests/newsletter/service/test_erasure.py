"""Erasing a subscriber from the pipeline's side: their ledger rows and their returned-mail records go,
nobody else's do (`subscribers erase` and the reader's "delete everything" both call it)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from newsletter.delivery.tables import DeliveryRow, DeliveryState
from newsletter.inbound import store as returned
from newsletter.inbound.tables import Handling, ReturnRow
from newsletter.issues.tables import IssueRow
from newsletter.service import erasure

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def test_forgetting_a_subscriber_deletes_their_ledger_rows_and_returned_mail_and_nothing_else(
        engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        issue = IssueRow(week="2026-W47", subject="Subject", created_at=NOW)
        session.add(issue)
        session.flush()
        for subscriber_id in (1, 2):
            session.execute(insert(DeliveryRow).values(issue_id=issue.id, subscriber_id=subscriber_id,
                                                       state=DeliveryState.SENT, attempts=1))
            returned.record_handling(session, f"digest-{subscriber_id}", Handling.SOFT_BOUNCE, NOW,
                                     subscriber_id=subscriber_id, issue_id=issue.id, reason="mailbox full")
    with Session(engine) as session, session.begin():
        erasure.erase_records(session, 1)
    with Session(engine) as session:
        assert list(session.scalars(select(DeliveryRow.subscriber_id))) == [2]
        assert list(session.scalars(select(ReturnRow.subscriber_id))) == [2]
