"""Start or resume the send of one week's issue: the steps `newsletter send` and the scheduler share."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.settings import Config
from newsletter.content import store as excerpts
from newsletter.content.excerpt import Excerpt
from newsletter.db.schema import utcnow
from newsletter.delivery import ledger
from newsletter.delivery.ledger import Holding, Outcome
from newsletter.delivery.recipients import Recipients
from newsletter.delivery.sender import Policy, Sender
from newsletter.delivery.steering import IssueSteering
from newsletter.delivery.tables import FINAL_STATES, DeliveryState
from newsletter.delivery.tally import Tally
from newsletter.delivery.transports.base import Transport
from newsletter.errors import IssueStateError
from newsletter.issues import life, states
from newsletter.issues import store as issues
from newsletter.issues.issue import Issue
from newsletter.issues.prepare import PreparedIssue
from newsletter.issues.tables import IssueState
from newsletter.mail.dkim import DkimSigner
from newsletter.weeks import IsoWeek


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
                  retry_seconds=delivery.retry_seconds, linger_seconds=delivery.linger_seconds,
                  refusals_in_a_row=delivery.refusals_in_a_row, database_patience=delivery.database_patience,
                  pause_window=delivery.pause_window, pause_on_failure_rate=delivery.pause_on_failure_rate)


def open_issue(session: Session, week: IsoWeek, subject: str, chosen: Sequence[Excerpt], recipients: Select[int],
               now: datetime) -> tuple[Issue, bool]:
    """The week's issue, created with its excerpts and its recipient snapshot if it does not exist yet.

    Returns (issue, created). The week is unique, so of two processes opening the same week at once
    one creates it and the other waits for that transaction and then finds it: never two issues.
    """
    issue, created = issues.create(session, week, subject, excerpts.ids(session, chosen), now)
    if created:
        ledger.snapshot(session, issue.id, recipients)
    return issue, created


def start(sessions: sessionmaker[Session], prepared: PreparedIssue, recipients: Recipients, *,
          approval_needed: bool = False, by: str = "send") -> Started:
    """Create the week's issue and its recipient snapshot in one transaction, or find the one already started.

    Refuses (IssueStateError, nothing written) an issue that is held, paused, cancelled or skipped, or
    not approved when `approval_needed`; otherwise the issue is `sending` from here on.
    """
    with sessions.begin() as session:
        status = life.current(session, prepared.week)
        problem = life.why_not_sent(status, approval_needed)
        if problem is not None:
            state = states.describe(None if status is None else status.state)
            raise IssueStateError(str(prepared.week), state, problem)
        now = utcnow()
        issue, created = open_issue(session, prepared.week, prepared.subject, prepared.rendered.excerpts,
                                    recipients.confirmed_ids(), now)
        started = Started(issue.id, created, ledger.counts(session, issue.id))
        # A sent issue run again with nothing left to do stays sent (its history is not padded with moves).
        if (status is None or status.state is not IssueState.SENDING) and (
                started.todo or status is None or status.state is not IssueState.SENT):
            _mark_sending(session, prepared.week, by, now)
        return started


def _mark_sending(session: Session, week: IsoWeek, by: str, now: datetime) -> None:
    """The issue is sending; another sender that got there first (on another machine) is as good."""
    try:
        life.move(session, week, IssueState.SENDING, by=by, reason=None, now=now)
    except IssueStateError:
        again = life.current(session, week)
        if again is None or again.state is not IssueState.SENDING:
            raise


def finish(sessions: sessionmaker[Session], week: IsoWeek, issue_id: int) -> bool:
    """Mark the issue sent when no row is left to send or retry; whether it is sent now."""
    with sessions.begin() as session:
        states = ledger.counts(session, issue_id)
        if any(states[s] for s in (DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.DEFERRED)):
            return False
        status = life.current(session, week)
        if status is not None and status.state is IssueState.SENT:
            return True
        if status is not None and status.state is not IssueState.SENDING:
            return False
        try:
            life.move(session, week, IssueState.SENT, by="send", reason=None, now=utcnow())
        except IssueStateError:  # another sender marked it first, or someone cancelled it meanwhile
            return False
        return True


async def deliver(config: Config, sessions: sessionmaker[Session], prepared: PreparedIssue, issue_id: int,
                  recipients: Recipients, transport: Transport, *, workers: int | None = None,
                  on_outcomes: Callable[[Sequence[Outcome]], None] = lambda _: None,
                  stop: asyncio.Event | None = None, tally: Tally | None = None,
                  tell: Callable[[str, str], Awaitable[None]] | None = None) -> Tally:
    """Send the issue's due rows until none is left or `stop` is set; then mark it sent if nothing is left.

    Raises SendStopped when the send had to stop (SendPaused, SendCancelled when its issue was paused or
    cancelled; `tally`, when given, is filled in as it goes). `tell` reaches the reviewers (subject, body)
    when the send pauses itself.
    """
    signer = DkimSigner.from_config(config)
    sender = Sender(sessions, transport, prepared.template, recipients.for_issue(issue_id), policy(config, workers),
                    envelope_from=config.newsletter.from_address, on_outcomes=on_outcomes,
                    sign=signer.sign if signer is not None else None,
                    steering=IssueSteering(sessions, prepared.week, tell=tell,
                                           patience=config.delivery.database_patience))
    if tally is not None:
        sender.tally = tally
    done = await sender.run(issue_id, stop)
    await asyncio.to_thread(finish, sessions, prepared.week, issue_id)
    return done


@dataclass(frozen=True)
class Remaining:
    """What a send left behind: rows nobody holds, rows other senders hold, and deferred rows."""

    pending: int
    held: list[Holding]
    deferred: int
    next_retry: datetime | None

    @property
    def unfinished(self) -> bool:
        """Rows a send ended without, deferred ones apart (those wait for their retry time, as they should)."""
        return bool(self.pending or self.held)


def remaining(sessions: sessionmaker[Session], issue_id: int) -> Remaining:
    with sessions() as session:
        states = ledger.counts(session, issue_id)
        return Remaining(states[DeliveryState.PENDING], ledger.holdings(session, issue_id),
                         states[DeliveryState.DEFERRED], ledger.next_retry(session, issue_id))


def weeks_with_retries(session: Session) -> list[IsoWeek]:
    """Weeks whose issue still has deferred or unfinished rows, oldest first."""
    return issues.weeks(session, ledger.issues_with_work(session))
