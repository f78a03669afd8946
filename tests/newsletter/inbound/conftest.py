"""An issue sent to a few readers on a list with return addresses, and the processor of what comes back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.settings import Config, load
from newsletter.content import store as excerpt_store
from newsletter.db.engine import sessions as make_sessions
from newsletter.delivery import ledger
from newsletter.delivery import send_issue as sending
from newsletter.delivery.tables import DeliveryRow, DeliveryState
from newsletter.inbound.process import ReturnProcessor
from newsletter.weeks import IsoWeek
from subscribers.addresses import parse
from subscribers.recipients import SubscriberRecipients
from subscribers.returns import SubscriberReturns
from subscribers.side import Subscribers
from subscribers.store import Consent
from subscribers.tables import Status
from tests.conftest import Clock, write_config
from tests.newsletter.conftest import sample_excerpts

DOMAIN = "bounces.news.example.org"
READERS = [f"reader{n}@example.com" for n in range(4)]


@dataclass
class SentIssue:
    """An issue every reader was sent; their return addresses; and a processor for what comes back."""

    config: Config
    sessions: sessionmaker[Session]
    side: Subscribers
    processor: ReturnProcessor
    issue_id: int
    ids: dict[str, int]
    nonces: dict[str, str]

    def bounce_address(self, reader: str, issue_id: int | None = None) -> str:
        return self.side.returns.bounce_address(self.ids[reader], self.nonces[reader], issue_id or self.issue_id)

    def unsubscribe_address(self, reader: str) -> str:
        return self.side.returns.unsubscribe_address(self.ids[reader], self.nonces[reader])

    def status(self, reader: str) -> Status | None:
        return self.side.store.lookup(parse(reader))

    def row(self, reader: str) -> tuple[DeliveryState, str | None]:
        with self.sessions() as session:
            state, reason = session.execute(select(DeliveryRow.state, DeliveryRow.reason).where(
                DeliveryRow.issue_id == self.issue_id, DeliveryRow.subscriber_id == self.ids[reader])).one()
        return state, reason


def send_issue_to(tmp_path: Path, engine: Engine, database_url: str, clock: Clock, readers: list[str],
                  **sections: dict[str, object]) -> SentIssue:
    sections = {**sections, "bounces": {"domain": DOMAIN, **sections.get("bounces", {})}}
    config = load(write_config(tmp_path, database_url, **sections), environ={})
    sessions = make_sessions(engine)
    side = Subscribers(config, engine, now=clock)
    for reader in readers:
        side.store.add_confirmed(parse(reader), Consent("import", "test"))
    excerpts = sample_excerpts()
    with sessions.begin() as session:
        excerpt_store.add(session, excerpts)
    recipients = SubscriberRecipients(config, engine)
    with sessions.begin() as session:
        issue, _ = sending.open_issue(session, IsoWeek(2026, 47), "Weekly Lessons", excerpts,
                                      recipients.confirmed_ids(), datetime.now(UTC))
        claims = ledger.claim(session, issue.id, limit=len(readers), lease_seconds=30, now=clock())
        ledger.record(session, [ledger.Outcome(c.delivery_id, DeliveryState.SENT) for c in claims], clock())
    opened = side.store.confirmed_addresses(after_id=0, limit=len(readers))
    ids = {address: subscriber_id for subscriber_id, (address, _) in opened.items()}
    nonces = {address: nonce for _, (address, nonce) in opened.items()}
    processor = ReturnProcessor(sessions, SubscriberReturns(side), config.bounces, clock)
    return SentIssue(config, sessions, side, processor, issue.id, ids, nonces)


@pytest.fixture
def sent(tmp_path: Path, engine: Engine, database_url: str, clock: Clock) -> SentIssue:
    return send_issue_to(tmp_path, engine, database_url, clock, READERS)
