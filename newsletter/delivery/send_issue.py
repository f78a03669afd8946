"""Start or resume the send of one week's issue: the steps `newsletter send` and the scheduler share."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from newsletter.delivery import ledger
from newsletter.config.settings import Config
from newsletter.delivery.sender import Policy, Recipients, Sender, Tally
from newsletter.mail.dkim import Signer
from newsletter.issues.prepare import PreparedIssue
from newsletter.delivery.ledger import Outcome
from newsletter.content.tables import FINAL_STATES, DeliveryRow, DeliveryState, IssueRow, utcnow
from newsletter.delivery.transports.base import Transport


@dataclass(frozen=True)
class Started:
    """The issue a send works on: whether this call created it, and how many rows are left."""

    issue_id: int
    created: bool
    states: dict[DeliveryState, int]

    @property
    def total(self) -> int:
        return sum(self.states.values())

    @property
    def todo(self) -> int:
        return sum(n for state, n in self.states.items() if state not in FINAL_STATES)


def policy(config: Config, workers: int | None = None) -> Policy:
    """The send's pacing from `[delivery]` (workers default to `smtp.connections`)."""
    delivery = config.delivery
    return Policy(workers=workers or config.smtp.connections, batch_size=delivery.batch_size,
                  lease_seconds=delivery.lease_seconds, give_up_after=timedelta(hours=delivery.give_up_after),
                  retry_seconds=delivery.retry_seconds, linger_seconds=delivery.linger_seconds)


def start(sessions: sessionmaker[Session], prepared: PreparedIssue, recipients: Recipients) -> Started:
    """Create the week's issue and its recipient snapshot, or find the one already started."""
    with sessions.begin() as session:
        issue, created = ledger.open_issue(session, prepared.week, prepared.subject, prepared.rendered.excerpts,
                                           recipients.confirmed_ids(), utcnow())
        return Started(issue.id, created, ledger.counts(session, issue.id))


async def deliver(config: Config, sessions: sessionmaker[Session], prepared: PreparedIssue, issue_id: int,
                  recipients: Recipients, transport: Transport, *, workers: int | None = None,
                  on_outcomes: Callable[[Sequence[Outcome]], None] = lambda _: None,
                  stop: asyncio.Event | None = None) -> Tally:
    """Send the issue's due rows until none is left or `stop` is set."""
    signer = Signer.from_config(config)
    sender = Sender(sessions, transport, prepared.template, recipients, policy(config, workers),
                    envelope_from=config.newsletter.from_address, on_outcomes=on_outcomes,
                    sign=signer.sign if signer is not None else None)
    return await sender.run(issue_id, stop)


def weeks_with_retries(session: Session) -> list[str]:
    """Weeks whose issue still has deferred or unfinished rows, oldest first."""
    return list(session.scalars(
        select(IssueRow.week).where(IssueRow.id.in_(
            select(DeliveryRow.issue_id).where(DeliveryRow.state.in_(
                [DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.DEFERRED])).distinct()))
        .order_by(IssueRow.week)))
