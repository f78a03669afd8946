"""An issue ready to send to N confirmed readers, on the real subscriber store, and ways to run and inspect
its send against a real SMTP server (tests/newsletter/smtp_server.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.settings import Config, SmtpSettings, load
from newsletter.content import store as excerpt_store
from newsletter.db.engine import sessions as make_sessions
from newsletter.delivery import ledger
from newsletter.delivery import send_issue as sending
from newsletter.delivery.owners import Owner
from newsletter.delivery.sender import Policy, Sender
from newsletter.delivery.tables import DeliveryRow
from newsletter.delivery.tally import Tally
from newsletter.delivery.transports.smtp import SmtpTransport
from newsletter.issues.compose import MessageTemplate, compose
from newsletter.issues.render import render_issue
from newsletter.weeks import IsoWeek
from subscribers.addresses import parse
from subscribers.recipients import SubscriberRecipients
from subscribers.side import Subscribers
from subscribers.store import Consent
from subscribers.tables import Status
from tests.conftest import write_config
from tests.newsletter.conftest import sample_excerpts
from tests.newsletter.smtp_server import SmtpServer

W47 = IsoWeek(2026, 47)
FROM = "letters@news.example.org"


def readers(count: int) -> list[str]:
    return [f"reader{n}@example.com" for n in range(count)]


def smtp_transport(server: SmtpServer, **settings: Any) -> SmtpTransport:
    """A transport to `server`, with a short timeout unless told otherwise."""
    return SmtpTransport(SmtpSettings(host=server.host, port=server.port, timeout=settings.pop("timeout", 5.0),
                                      **settings))


@dataclass
class Send:
    """One issue ready to send to `addresses`, and what is needed to run and inspect the send."""

    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    side: Subscribers
    recipients: SubscriberRecipients
    template: MessageTemplate
    issue_id: int
    addresses: list[str]
    ids: dict[str, int]

    def sender(self, transport: SmtpTransport, policy: Policy, **options: Any) -> Sender:
        return Sender(self.sessions, transport, self.template, self.recipients, policy, envelope_from=FROM,
                      **options)

    async def run(self, server: SmtpServer, policy: Policy, *, owner: Owner | None = None, **smtp: Any) -> Tally:
        """One sender (as `owner`: default, this process) with a transport of its own, to its end."""
        transport = smtp_transport(server, **smtp)
        try:
            return await self.sender(transport, policy, owner=owner).run(self.issue_id)
        finally:
            await transport.close()

    def states(self) -> dict[str, str]:
        """Each reader's ledger state."""
        by_id = {v: k for k, v in self.ids.items()}
        with self.sessions() as session:
            rows = session.execute(select(DeliveryRow.subscriber_id, DeliveryRow.state)
                                   .where(DeliveryRow.issue_id == self.issue_id)).all()
        return {by_id[subscriber]: state.value for subscriber, state in rows}

    def counts(self) -> dict[str, int]:
        """Rows per state, the states with none left out."""
        with self.sessions() as session:
            return {state.value: n for state, n in ledger.counts(session, self.issue_id).items() if n}

    def status(self, address: str) -> Status | None:
        return self.side.store.lookup(parse(address))

    def statuses(self) -> set[Status | None]:
        """The subscriber statuses of every reader."""
        return {self.status(address) for address in self.addresses}


def make_send(tmp_path: Path, engine: Engine, database_url: str, addresses: list[str]) -> Send:
    """`addresses` confirmed, the sample week stored, and its issue started (every reader pending)."""
    config = load(write_config(tmp_path, database_url), environ={})
    sessions = make_sessions(engine)
    side = Subscribers(config, engine)
    for address in addresses:
        side.store.add_confirmed(parse(address), Consent("import", "test"))
    excerpts = sample_excerpts()
    with sessions.begin() as session:
        excerpt_store.add(session, excerpts)
    template = compose(config, render_issue(config, W47, excerpts))
    recipients = SubscriberRecipients(config, engine)
    with sessions.begin() as session:
        issue, _ = sending.open_issue(session, W47, template.subject, excerpts, recipients.confirmed_ids(),
                                     datetime.now(UTC))
    with sessions() as session:
        subscriber_ids = list(session.scalars(select(DeliveryRow.subscriber_id)))
    ids = {r.address: r.subscriber_id for r in recipients.lookup(subscriber_ids).values()}
    return Send(config, engine, sessions, side, recipients, template, issue.id, addresses, ids)
