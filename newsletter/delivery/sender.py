"""The send: workers claim ledger batches, personalise the issue's template, hand each message to the
transport, and write the outcomes back a batch at a time.

Guarantees: a row is marked `sending` (with a lease) before its message leaves, and `sent` only after
the transport returned, so a crash at any point loses nothing; rows whose lease lapses are tried again.
The only messages a crash can repeat are the ones sent but not yet recorded, at most one batch per
worker; each carries the same Message-ID as before. Recipients are looked up when their batch is
claimed, so an unsubscribe that arrives mid-send stops every message not yet claimed (those already
claimed, at most one batch per worker, still go out).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from newsletter.db.schema import utcnow
from newsletter.delivery import ledger
from newsletter.delivery.ledger import Claim, Outcome
from newsletter.delivery.recipients import Recipients
from newsletter.delivery.tables import DeliveryState
from newsletter.delivery.transports.base import Outgoing, Transport
from newsletter.errors import DeliveryError
from newsletter.issues.compose import MessageTemplate
from newsletter.mail.recipient import Recipient

log = logging.getLogger(__name__)
State = DeliveryState


@dataclass(frozen=True)
class Policy:
    """How a send paces itself; from `[delivery]` and the command line."""

    workers: int = 4
    batch_size: int = 100
    lease_seconds: float = 300
    give_up_after: timedelta = timedelta(hours=72)
    retry_seconds: float = 60       # first retry delay; doubles each attempt, at most an hour
    linger_seconds: float = 120     # wait in this run for deferred rows that come due this soon

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.retry_seconds * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class Tally:
    """What this run did: outcomes by state, and the reasons for failures and deferrals."""

    states: Counter[DeliveryState] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: Outcome) -> None:
        self.states[outcome.state] += 1
        if outcome.reason and outcome.state in (State.FAILED, State.DEFERRED):
            self.reasons[outcome.reason] += 1


class Sender:
    """Delivers one issue to its ledger; `run` can be called by several processes at once."""

    def __init__(self, sessions: sessionmaker[Session], transport: Transport, template: MessageTemplate,
                 recipients: Recipients, policy: Policy, *, envelope_from: str,
                 clock: Callable[[], datetime] = utcnow,
                 sign: Callable[[bytes], bytes] | None = None,
                 on_outcomes: Callable[[Sequence[Outcome]], None] = lambda _: None) -> None:
        self._sessions = sessions
        self._transport = transport
        self._template = template
        self._recipients = recipients
        self._policy = policy
        self._from = envelope_from
        self._clock = clock
        self._sign = sign
        self._on_outcomes = on_outcomes
        self.tally = Tally()

    async def run(self, issue_id: int, stop: asyncio.Event | None = None) -> Tally:
        """Send until nothing is due (or `stop` is set); rows still deferred wait for a later run."""
        stop = stop or asyncio.Event()
        await asyncio.gather(*(self._work(issue_id, stop) for _ in range(self._policy.workers)))
        return self.tally

    async def _work(self, issue_id: int, stop: asyncio.Event) -> None:
        while not stop.is_set():
            claims = await asyncio.to_thread(self._claim, issue_id)
            if claims:
                await self._deliver(claims, stop)
                continue
            wait = await asyncio.to_thread(self._wait_for_due, issue_id)
            if wait is None:
                return
            # Sleep until a deferred row comes due (looking again each second: a sibling worker's lease
            # also counts as "due" and usually ends early, when it finishes), or stop when asked to.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=min(wait, 1.0))

    def _claim(self, issue_id: int) -> list[Claim]:
        with self._sessions.begin() as session:
            return ledger.claim(session, issue_id, limit=self._policy.batch_size,
                                lease_seconds=self._policy.lease_seconds, now=self._clock())

    def _wait_for_due(self, issue_id: int) -> float | None:
        """Seconds until the next deferred row is due, if that is soon enough to wait for in this run."""
        with self._sessions() as session:
            due = ledger.next_due(session, issue_id)
        if due is None:
            return None
        wait = (due - self._clock()).total_seconds()
        return max(wait, 0.05) if wait <= self._policy.linger_seconds else None

    async def _deliver(self, claims: list[Claim], stop: asyncio.Event) -> None:
        people = await asyncio.to_thread(self._recipients.lookup, [c.subscriber_id for c in claims])
        outcomes: list[Outcome] = []
        bounced: list[int] = []
        untried: list[int] = []
        for claim in claims:
            person = people.get(claim.subscriber_id)
            if stop.is_set():
                untried.append(claim.delivery_id)
            elif person is None:
                outcomes.append(Outcome(claim.delivery_id, State.SKIPPED,
                                        reason="no longer subscribed when its turn came"))
            else:
                outcome = await self._send_one(claim, person)
                outcomes.append(outcome)
                if outcome.state is State.FAILED and (outcome.code or 0) >= 500:
                    bounced.append(claim.subscriber_id)
        await asyncio.to_thread(self._record, outcomes, untried, bounced)


    async def _send_one(self, claim: Claim, person: Recipient) -> Outcome:
        try:
            data = self._template.personalise(person)
            if self._sign is not None:
                data = self._sign(data)  # DKIM: its header lines are folded, so none starts with "."
            await self._transport.send(Outgoing(self._from, person.address, data,
                                                self._template.message_id(person.subscriber_id),
                                                dot_stuffed=True))
        except DeliveryError as error:
            # error.reason and error.recipient come redacted from the transport.
            log.info("delivery %s for %s: %s", "refused" if error.permanent else "deferred",
                     error.recipient or "a recipient", error.reason)
            if error.permanent:
                return Outcome(claim.delivery_id, State.FAILED, error.code or None, error.reason)
            return self._deferred(claim, error.code or None, error.reason)
        return Outcome(claim.delivery_id, State.SENT)

    def _deferred(self, claim: Claim, code: int | None, reason: str) -> Outcome:
        now = self._clock()
        if now - claim.first_attempt_at >= self._policy.give_up_after:
            hours = self._policy.give_up_after.total_seconds() / 3600
            return Outcome(claim.delivery_id, State.FAILED, code,
                           f"gave up after {hours:g} hours of temporary failures: {reason}")
        return Outcome(claim.delivery_id, State.DEFERRED, code, reason,
                       next_attempt_at=now + self._policy.backoff(claim.attempts))

    def _record(self, outcomes: list[Outcome], untried: list[int], bounced: list[int]) -> None:
        with self._sessions.begin() as session:
            ledger.record(session, outcomes, self._clock())
            ledger.release(session, untried)
        if bounced:
            self._recipients.mark_bounced(bounced)
        for outcome in outcomes:
            self.tally.add(outcome)
        self._on_outcomes(outcomes)
