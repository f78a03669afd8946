"""The send: workers claim ledger batches, personalise the issue's template, hand each message to the
transport, and write each outcome as it happens.

Guarantees:
- Nothing is lost. A row is `sending` (claimed by this process, with a lease) before its message leaves
  and `sent` only after the transport returned; a crash leaves it `sending`, and it is sent again.
- The crash window is one message per connection. Each outcome is written as it happens (a group commit,
  `recorder.py`), and the server can accept a worker's next message only once the outcome before it is
  in (the write overlaps that message's first steps), so a crash repeats at most the messages accepted
  but not yet written, one per connection; each repeat has the same Message-ID.
- No live sender's rows are taken. The owner renews its lease every third of it (`leases.py`), however
  long a batch takes; rows of a sender that died on this host are taken at once, others when their
  lease lapses.
- Nothing destroys the list by accident. A refusal that is about us (relaying denied, authentication,
  the sender's policy) stops the send; permanent refusals are believed only once a message begun after
  them is accepted, and `refusals_in_a_row` of them in a row stop it too (`breaker.py`). Either way nobody
  is bounced and the rows are left for a later run. When more than `pause_on_failure_rate` of the last
  `pause_window` outcomes were refused or deferred, the send pauses its issue (`failure_window.py`).
- A pause or cancel reaches it within `check_seconds`: it asks its `Steering` (`steering.py`) that
  often, then every worker stops before its next message and hands back what it has not started; a
  cancelled send then skips the rows not sent.
- A server that refuses the session (421, down) defers the rest of the worker's batch untried, and the
  transport waits longer before each new connection, so it is not hammered.
- A database that goes away is waited for with backoff for `database_patience`, then the send stops
  (`SendStopped`), having sent nothing whose outcome it could not write but the one per connection.
- Unsubscribes that arrive mid-send stop every message whose batch is not claimed yet: recipients are
  looked up when their batch is claimed.

A worker claims its next batch (and looks up its recipients) while it sends the last quarter of the
current one, so it does not wait for the database between batches, and a batch's last message begins
the next one's first (its MAIL, RCPT and DATA go behind the "."), as within a batch; no sooner, so that
a worker does not hold rows others could be sending. Rows claimed ahead are held and renewed like the
others, and handed back untried when the send stops. A lookup ahead only reads: if it fails, the
batch's recipients are looked up again, patiently, when its turn comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from newsletter.db.schema import utcnow
from newsletter.db.transient import patiently
from newsletter.delivery import ledger
from newsletter.delivery.breaker import Refusal, RefusalBreaker
from newsletter.delivery.commits import OutcomeCommits
from newsletter.delivery.failure_window import FailureWindow
from newsletter.delivery.leases import LeaseKeeper, gone, sharing
from newsletter.delivery.ledger import Claim, Holding, Outcome
from newsletter.delivery.owners import Owner
from newsletter.delivery.recipients import Recipients
from newsletter.delivery.recorder import OutcomeWriter, Written
from newsletter.delivery.steering import Course, FreeRunning, Steering
from newsletter.delivery.tables import DeliveryState
from newsletter.delivery.tally import Tally
from newsletter.delivery.transports.base import Outgoing, Transport
from newsletter.errors import (
    DatabaseUnavailable,
    DeliveryError,
    RelayRefusal,
    SendCancelled,
    SendPaused,
    SendStopped,
    SessionFailure,
)
from newsletter.issues.compose import MessageTemplate
from newsletter.mail.recipient import Recipient

log = logging.getLogger(__name__)
State = DeliveryState
T = TypeVar("T")
_LEFT_FOR_LATER = "nobody was marked bounced and the rows are left for a later run"
# While outcomes come less than this apart, a commit waits at most this long for the other workers'
# outcomes (`recorder.py`): on loopback a 10,000-message send makes about 3,000 commits, where it made
# 5,500 without waiting; at a 20 ms round trip outcomes come about 5 ms apart, so none waits. Both
# event loops keep time for timers in whole milliseconds: asyncio's waits at least one, uvloop's rounds
# to the nearest (so half a millisecond would not wait at all).
_GATHER_SECONDS = 0.001


@dataclass(frozen=True)
class Policy:
    """How a send paces itself; from `[delivery]` and the command line."""

    workers: int = 4
    batch_size: int = 100
    lease_seconds: float = 30
    give_up_after: timedelta = timedelta(hours=72)
    retry_seconds: float = 60       # first retry delay; doubles each attempt, at most an hour
    linger_seconds: float = 120     # wait in this run for deferred rows that come due this soon
    refusals_in_a_row: int = 20     # the breaker: this many permanent refusals in a row stop the send
    database_patience: float = 60   # wait this long for a database that is away, then stop
    pause_window: int = 100         # the automatic pause looks at this many latest outcomes
    pause_on_failure_rate: float = 0.1  # ... and pauses when more than this share failed, or was deferred
    check_seconds: float = 0.5      # how often the send asks its steering whether to go on

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.retry_seconds * 2 ** max(attempts - 1, 0), 3600))


@dataclass(frozen=True)
class Batch:
    """Rows a worker claimed, and their recipients, looked up as they were claimed (the unsubscribed are
    missing)."""

    claims: list[Claim]
    people: Mapping[int, Recipient] | None  # None: to be looked up when the batch's turn comes


@dataclass
class Lookahead:
    """What one worker has begun ahead: the claim of its next batch, and the message it built a step early
    (the next one, which the transport may begin behind the current one's end)."""

    batch: asyncio.Task[Batch] | None = None
    message: Outgoing | None = None
    recipient: int | None = None  # the subscriber id the message is for
    began: int = 0  # the message's place among the send's events (`Sender._events`), taken as it was built


def _first_of(coming: asyncio.Task[Batch] | None) -> Recipient | None:
    """The first recipient of the next batch if it is claimed already (never waited for)."""
    if coming is None or not coming.done() or coming.cancelled() or coming.exception() is not None \
            or not coming.result().claims:
        return None
    batch = coming.result()
    return None if batch.people is None else batch.people.get(batch.claims[0].subscriber_id)


class Sender:
    """Delivers one issue to its ledger; `run` can be called by several processes at once.

    `owner` names this process in the claims it makes (default: this process); `on_outcomes` hears of
    each row this run touches the first time it gets an outcome (for a progress bar).
    """

    def __init__(self, sessions: sessionmaker[Session], transport: Transport, template: MessageTemplate,
                 recipients: Recipients, policy: Policy, *, envelope_from: str,
                 clock: Callable[[], datetime] = utcnow,
                 sign: Callable[[bytes], bytes] | None = None,
                 on_outcomes: Callable[[Sequence[Outcome]], None] = lambda _: None,
                 owner: Owner | None = None, steering: Steering | None = None) -> None:
        self._sessions = sessions
        self._transport = transport
        self._template = template
        self._recipients = recipients
        self._policy = policy
        self._from = envelope_from
        self._clock = clock
        self._sign = sign
        self._on_outcomes = on_outcomes
        self.owner = owner or Owner.this_process()
        self._steering = steering or FreeRunning()
        self.tally = Tally()

    async def run(self, issue_id: int, stop: asyncio.Event | None = None) -> Tally:
        """Send until nothing is due (or `stop` is set); rows deferred for later wait for a later run.

        Raises SendStopped when a reason every message shares stops the send; what it did is in `tally`.
        """
        self._stop = stop or asyncio.Event()
        self._halt = asyncio.Event()
        with self._sessions() as session:
            bind = session.get_bind()
        self._engine = bind if isinstance(bind, Engine) else bind.engine
        # SQLite is a library, not a server: a read costs CPU, not a wait (in WAL mode no writer blocks a
        # reader), so the lookups run on the loop; in a thread they cost more in hand-overs than they
        # overlap. A lookup that fails there is made again, patiently and in a thread, when its batch's
        # turn comes.
        self._inline_reads = self._engine.dialect.name == "sqlite"
        self._failure: SendStopped | None = None
        self._breaker = RefusalBreaker(self._policy.refusals_in_a_row)
        self._window = FailureWindow(self._policy.pause_window, self._policy.pause_on_failure_rate)
        self._events = itertools.count(1)  # messages begun and refusals heard, in order (for the breaker)
        commits = OutcomeCommits(self._engine, self._clock, self._patient)
        self._writer = OutcomeWriter(commits, gather=_GATHER_SECONDS, waiters=self._policy.workers)
        self._keeper = LeaseKeeper(self._sessions, issue_id, self.owner, self._policy.lease_seconds,
                                   clock=self._clock, patient=self._patient, share=self._transport.share)
        heartbeat = asyncio.create_task(self._beat(), name="lease-heartbeat")
        watch = asyncio.create_task(self._watch(), name="steering")
        try:
            done = await asyncio.gather(*(self._work(issue_id) for _ in range(self._policy.workers)),
                                        return_exceptions=True)
            for result in done:
                if isinstance(result, BaseException):
                    raise result
            if self._failure is None and not self._stop.is_set() and self._breaker.held:
                await self._believe(self._breaker.accepted())  # fewer than the limit in a row: real bounces
        finally:
            self._halt.set()
            await heartbeat  # it stops at the halt; a step under way in its thread is let finish
            await watch
            await self._hand_back(list(self._keeper.held))
            commits.close()
            if isinstance(self._failure, SendCancelled):
                await self._patient(partial(self._skip_unsent, issue_id, self._failure.reason), "skipping rows")
        if self._failure is not None:
            raise self._failure
        return self.tally

    def _stopping(self) -> bool:
        return self._stop.is_set() or self._halt.is_set()

    def _give_up(self, reason: str, stopped: type[SendStopped] = SendStopped) -> None:
        """Stop the whole send for a reason every message shares; the first reason is the one told."""
        if self._failure is None:
            self._failure = stopped(reason)
            log.error("send stopped: %s", reason, extra={"event": "send.stopped"})
        self._halt.set()

    def _skip_unsent(self, issue_id: int, reason: str) -> None:
        with self._sessions.begin() as session:
            ledger.skip_unsent(session, issue_id, reason)

    async def _watch(self) -> None:
        """Ask the steering every `check_seconds` whether to go on; a pause or cancel halts every worker,
        which hands back the rows it has not started (a message in flight is let finish)."""
        while not self._halt.is_set():
            try:
                verdict = await self._steering.look()
            except DatabaseUnavailable as gone_away:
                self._give_up(f"{gone_away}; the send stopped safely")
                return
            if verdict.course is not Course.GO:
                stopped = SendPaused if verdict.course is Course.PAUSE else SendCancelled
                self._give_up(verdict.reason, stopped)
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._halt.wait(), timeout=self._policy.check_seconds)

    async def _pause_self(self, reason: str) -> None:
        """Too many refusals or deferrals of late: pause the issue (where people and other senders see it)."""
        if self._failure is None:
            self._give_up(f"{reason}; it paused itself and bounced nobody: check the relay, then "
                          "`newsletter issue resume`", SendPaused)
            await self._steering.pause(reason)

    async def _patient(self, step: Callable[[], T], doing: str) -> T:
        return await patiently(step, patience=self._policy.database_patience, doing=doing)

    async def _beat(self) -> None:
        try:
            await self._keeper.run(self._halt)
        except DatabaseUnavailable as gone_away:
            self._give_up(f"{gone_away}; the send stopped safely")

    async def _work(self, issue_id: int) -> None:
        lookahead = Lookahead()
        try:
            idle_since: float | None = None
            while not self._stopping():
                coming, lookahead.batch = lookahead.batch, None
                batch = await coming if coming is not None else await self._take(issue_id)
                if batch.claims:
                    idle_since = None
                    await self._deliver(batch, issue_id, lookahead)
                    continue
                idle_since = idle_since or time.monotonic()
                wait = await self._patient(partial(self._next_look, issue_id, idle_since), "looking for due rows")
                if wait is None:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._halt_or_stop(), timeout=wait)
        except DatabaseUnavailable as gone_away:
            self._give_up(f"{gone_away}; the send stopped safely")
        except Exception:
            self._halt.set()  # a bug: the other workers stop too, and the error is raised from `run`
            raise
        finally:
            if (coming := lookahead.batch) is not None:
                # Rows claimed ahead and not begun are held: `run` hands them back as it ends.
                await asyncio.wait([coming])
                if not coming.cancelled() and isinstance(coming.exception(), DatabaseUnavailable):
                    self._give_up(f"{coming.exception()}; the send stopped safely")

    async def _take(self, issue_id: int) -> Batch:
        """Claim a batch and look up its recipients; an empty batch when the send is stopping."""
        if self._stopping():
            return Batch([], {})
        claimed_at = time.monotonic()
        claims, holdings = await self._patient(lambda: self._claim(issue_id), "claiming rows")
        self._transport.share(sharing(holdings, self.owner, self._clock()))
        if not claims:
            return Batch([], {})
        self._keeper.hold([c.delivery_id for c in claims], claimed_at)
        try:
            ids = [c.subscriber_id for c in claims]
            people = self._recipients.lookup(ids) if self._inline_reads else \
                await asyncio.to_thread(self._recipients.lookup, ids)
        except Exception as error:  # only read: looked up again, patiently, when the batch's turn comes
            log.debug("looking up a batch's recipients ahead failed: %s", type(error).__name__)
            return Batch(claims, None)
        return Batch(claims, people)

    async def _halt_or_stop(self) -> None:
        waits = [asyncio.ensure_future(self._halt.wait()), asyncio.ensure_future(self._stop.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    def _claim(self, issue_id: int) -> tuple[list[Claim], list[Holding]]:
        """Claim a batch, taking over the rows of senders that died on this host; also who holds rows
        (for the rate's share)."""
        with self._sessions() as session:
            holdings = ledger.holdings(session, issue_id)
        takeover = gone(holdings, self.owner)
        if takeover:
            log.info("taking over the rows of %s: that sender is no longer running on this host",
                     ", ".join(takeover), extra={"event": "send.takeover", "owners": ",".join(takeover)})
        with self._sessions.begin() as session:
            return ledger.claim(session, issue_id, limit=self._policy.batch_size,
                                lease_seconds=self._policy.lease_seconds, now=self._clock(),
                                owner=str(self.owner), takeover=takeover), holdings

    def _next_look(self, issue_id: int, idle_since: float) -> float | None:
        """Seconds to wait before looking for claimable rows again, or None: nothing worth waiting for.

        Worth waiting for: deferred rows due within `linger_seconds`, and rows another sender holds, for
        as long as a dead sender's lease takes to lapse (or `linger_seconds`, if longer). A live sender
        keeps renewing its lease; its rows are its own, and `newsletter send` says who holds them.
        """
        now = self._clock()
        with self._sessions() as session:
            retry = ledger.next_retry(session, issue_id)
            others = [h for h in ledger.holdings(session, issue_id) if h.owner != str(self.owner)]
        waits = []
        if retry is not None and (retry - now).total_seconds() <= self._policy.linger_seconds:
            waits.append(max((retry - now).total_seconds(), 0.05))
        patience = max(self._policy.lease_seconds + 1, self._policy.linger_seconds)
        if others and time.monotonic() - idle_since <= patience:
            waits.append(1.0)
        return min(waits) if waits else None

    async def _deliver(self, batch: Batch, issue_id: int, lookahead: Lookahead) -> None:
        """Send a batch; when a quarter of it is left, claim the next one (`lookahead.batch`), whose first
        message the batch's last may then begin."""
        claims, people = batch.claims, batch.people
        if people is None:
            people = await self._patient(lambda: self._recipients.lookup([c.subscriber_id for c in claims]),
                                         "looking up the batch's recipients")
        written: Written | None = None  # this worker's last outcome, on its way into the database
        ahead_from = len(claims) - max(1, len(claims) // 4)  # early enough to be claimed in time, mostly
        try:
            for index, claim in enumerate(claims):
                if self._stopping():
                    await self._hand_back([c.delivery_id for c in claims[index:]])
                    return
                if index >= ahead_from and lookahead.batch is None:
                    lookahead.batch = asyncio.create_task(self._take(issue_id), name="next-batch")
                if not await self._keeper.still_mine(claim.delivery_id):
                    continue
                person = people.get(claim.subscriber_id)
                if person is None:
                    written = await self._settle(claim, Outcome(claim.delivery_id, State.SKIPPED,
                                                                reason="no longer subscribed when its turn came"))
                    continue
                message, began = self._begun(person, lookahead)
                upcoming = people.get(claims[index + 1].subscriber_id) if index + 1 < len(claims) else \
                    _first_of(lookahead.batch)
                lookahead.message = ahead = self._message(upcoming) if upcoming is not None else None
                lookahead.recipient = upcoming.subscriber_id if upcoming is not None else None
                lookahead.began = next(self._events)
                try:
                    await self._transport.send(message.in_order(written, ahead))
                except RelayRefusal as refusal:
                    self._give_up(f"{refusal.reason}; {_LEFT_FOR_LATER}: check [smtp] host, username and "
                                  "NEWSLETTER_SMTP_PASSWORD, and that the relay accepts [newsletter] from_address")
                    await self._hand_back([c.delivery_id for c in claims[index:]])
                    return
                except DeliveryError as error:
                    written = await self._settle(claim, self._refused(claim, error)) or written
                    if isinstance(error, SessionFailure):
                        # The server turned the session away: the rest of the batch would meet it too.
                        rest = claims[index + 1:]
                        written = self._submit(rest, [self._deferred(c, error.code or None,
                                                                     f"not tried: {error.reason}") for c in rest])
                        return
                    continue
                written = await self._settle(claim, Outcome(claim.delivery_id, State.SENT), began)
        finally:
            if written is not None:
                await written  # the batch's last outcome is in before this worker claims again

    def _begun(self, person: Recipient, lookahead: Lookahead) -> tuple[Outgoing, int]:
        """`person`'s message and its place among the send's events: the one built ahead, numbered when it
        was handed over behind the message before (its RCPT may be answered already, so a refusal heard
        since is not shown to be a bounce by its acceptance), or a new one, numbered now."""
        ahead = lookahead.message
        if ahead is not None and lookahead.recipient == person.subscriber_id:
            return ahead, lookahead.began
        return self._message(person), next(self._events)

    def _message(self, person: Recipient) -> Outgoing:
        message_id = self._template.message_id(person.subscriber_id)
        data = self._template.personalise(person, message_id=message_id)
        if self._sign is not None:
            data = self._sign(data)  # DKIM: its header lines are folded, so none starts with "."
        return Outgoing(person.envelope_sender or self._from, person.address, data, message_id, dot_stuffed=True)

    def _refused(self, claim: Claim, error: DeliveryError) -> Outcome:
        # error.reason and error.recipient come redacted from the transport.
        log.info("delivery %s for %s: %s", "refused" if error.permanent else "deferred",
                 error.recipient or "a recipient", error.reason)
        if error.permanent:
            return Outcome(claim.delivery_id, State.FAILED, error.code or None, error.reason)
        return self._deferred(claim, error.code or None, error.reason)

    def _deferred(self, claim: Claim, code: int | None, reason: str) -> Outcome:
        now = self._clock()
        if now - claim.first_attempt_at >= self._policy.give_up_after:
            hours = self._policy.give_up_after.total_seconds() / 3600
            return Outcome(claim.delivery_id, State.FAILED, code,
                           f"gave up after {hours:g} hours of temporary failures: {reason}")
        return Outcome(claim.delivery_id, State.DEFERRED, code, reason,
                       next_attempt_at=now + self._policy.backoff(claim.attempts))

    async def _settle(self, claim: Claim, outcome: Outcome, began: int | None = None) -> Written | None:
        """Hand one outcome to the writer, through the breaker: a bounce waits until a message is accepted.

        Returns the write to await before the worker's next message is accepted (None: nothing written).
        """
        if outcome.state in (State.SENT, State.FAILED, State.DEFERRED):
            tripped = self._window.add(outcome.state)
            if tripped is not None:
                await self._pause_self(tripped)
                if outcome.state is not State.SENT:
                    return None  # its row is handed back untried with the rest
        if outcome.state is State.FAILED and (outcome.code or 0) >= 500:
            if self._breaker.refused(claim, outcome, next(self._events)):
                self._give_up(f"{self._breaker.reason()}: {_LEFT_FOR_LATER}; check the relay and its log")
            return None
        if outcome.state is State.SENT and self._breaker.held:
            await self._believe(self._breaker.accepted(began))
        return self._submit([claim], [outcome])

    def _submit(self, claims: Sequence[Claim], outcomes: list[Outcome]) -> Written | None:
        if not outcomes:
            return None
        # Not renewed from here on: the lease has at least two thirds of its length left, and a row whose
        # outcome is written is not `sending` any more.
        self._keeper.drop(c.delivery_id for c in claims)
        written = self._writer.submit(outcomes)
        self._on_outcomes([outcome for outcome in outcomes if self.tally.add(outcome)])
        return written

    async def _believe(self, refusals: list[Refusal]) -> None:
        """Refusals shown to be about their recipients: suppress them, then record them failed (in that
        order, so a crash between the two leaves a row that is skipped next time, never a failed row
        whose subscriber is still mailed)."""
        bounced = [r.claim.subscriber_id for r in refusals]
        await self._patient(lambda: self._recipients.mark_bounced(bounced), "suppressing bounced subscribers")
        written = self._submit([r.claim for r in refusals], [r.outcome for r in refusals])
        if written is not None:
            await written

    async def _hand_back(self, delivery_ids: list[int]) -> None:
        """Release claimed rows untried, so another run takes them at once; best effort when the database
        is away (they are then taken when this process is gone or their lease lapses)."""
        if not delivery_ids:
            return
        try:
            await asyncio.to_thread(self._release, delivery_ids)
        except Exception as error:  # the rows stay claimed; nothing is lost
            log.warning("could not hand back %d claimed row(s): %s", len(delivery_ids), type(error).__name__)
            return
        self._keeper.drop(delivery_ids)

    def _release(self, delivery_ids: list[int]) -> None:
        with self._sessions.begin() as session:
            ledger.release(session, delivery_ids)
