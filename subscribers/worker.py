"""The outbox worker: acts on queued sign-ups, then sends the confirmation emails they queued within
seconds, retrying while the server is down.

It is background work beside the endpoint, in the same process: given the endpoint's `Traffic`, it waits
for a moment with no request in flight before each batch (at most `patience` seconds), so that a burst
of sign-ups is answered first and its confirmation emails follow, a little later, never lost.

Acting on a sign-up is where its address's state is read and a confirmation email decided, under the
per-mailbox and per-domain limits, away from the request that a visitor could time. The worker also
purges sign-ups left unconfirmed past `[subscribers] pending_days`, once an hour. Database work is
batched (one claim, one lookup, one write per batch), so a burst of sign-ups costs the database little
more than the sign-ups themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from newsletter.delivery.transports.base import Outgoing, Transport
from newsletter.errors import DeliveryError, PermanentFailure
from subscribers.blocking import Blocking
from subscribers.confirmation import ConfirmationMail
from subscribers.errors import SubscriberError
from subscribers.outbox import CHANGE, CONFIRM, WELCOME, Claimed, MailOutcome, scrub
from subscribers.ratelimit import MailboxLimits
from subscribers.side import Subscribers
from subscribers.store import SignUp
from subscribers.tables import MailState, as_utc
from subscribers.traffic import Traffic

log = logging.getLogger("subscribers.worker")
# How long a batch waits for a quiet moment on the web before it runs anyway, and how big it is then: under
# a flood of requests the worker still acts on a few sign-ups and sends a few mails every second, and each
# such batch holds the database (one writer on SQLite) for a few milliseconds only, not the tens of a full one.
PATIENCE_SECONDS = 1.0
BUSY_BATCH = 10


class OutboxWorker:
    """Claims due mails, builds each from the sealed address, hands it to the transport, records how it went."""

    def __init__(self, side: Subscribers, transport: Transport, mail: ConfirmationMail, *,
                 welcome: Callable[[int], Outgoing | None] | None = None, blocking: Blocking | None = None,
                 poll_seconds: float = 5.0, batch: int = 50,
                 retry_after: timedelta = timedelta(seconds=30), retry_cap: timedelta = timedelta(minutes=30),
                 purge_every: float | None = 3600.0, concurrency: int = 2, jitter_seconds: float = 1.0,
                 traffic: Traffic | None = None, patience: float = PATIENCE_SECONDS) -> None:
        self.side = side
        self.transport = transport
        self.mail = mail
        self.change_mail = mail.for_change()
        # The welcome mail of a subscriber (the latest issue, made by the pipeline, which this side may not
        # import): given by the composition root; None when there is nothing to send them.
        self.welcome = welcome
        self.blocking = blocking or Blocking(side.engine)
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.retry_after = retry_after
        self.retry_cap = retry_cap
        self.purge_every = purge_every
        self.jitter_seconds = jitter_seconds
        self.traffic = traffic
        self.patience = patience
        settings = side.settings
        # The side's clock, so that tests that move it see the hour pass.
        self.limits = MailboxLimits(settings.signups_per_address, settings.signups_per_domain,
                                    key=side.crypto.blind_index, clock=lambda: side.now().timestamp())
        self._wake = asyncio.Event()
        self._next_purge = 0.0
        # A few at a time: confirmation mail is background work and must not crowd out the sign-ups.
        self._sending = asyncio.Semaphore(concurrency)

    def wake(self) -> None:
        """Look at the queue within a second (a sign-up just arrived) instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set; a failing database or transport is logged and tried again."""
        while not stop.is_set():
            self._wake.clear()
            handled = 0
            try:
                await self._purge_when_due()
                handled = await self.run_once()
            except Exception as error:  # the worker must outlive any one bad moment
                log.error("outbox worker: %s; trying again in %.0f s", _describe(error), self.poll_seconds)
            if handled:
                continue
            if await _first(self._wake, stop, self.poll_seconds) is self._wake and self.jitter_seconds:
                # At a random moment, not at once: the work a sign-up leaves behind (more for a new
                # address than a confirmed one) must not line up with the request that follows it.
                await _first(stop, stop, random.uniform(0, self.jitter_seconds))

    async def run_once(self) -> int:
        """Act on every queued sign-up and send every mail that is due now, a batch of each in turn, each
        turn after a quiet moment on the web; how many mails were handled."""
        done: Counter[SignUp] = Counter()
        total = 0
        while True:
            quiet = self.traffic is None or await self.traffic.quiet(self.patience)
            size = self.batch if quiet else min(self.batch, BUSY_BATCH)
            acted = await self.blocking(self.side.store.act_on_sign_ups, size, self.limits.admit)
            done.update(acted)
            sent = await self._send_batch(size)
            total += sent
            if not acted and not sent:
                break
        _log_sign_ups(done)
        return total

    async def _send_batch(self, size: int) -> int:
        """Claim up to `size` due mails, send them, record how each went; how many there were."""
        claimed = await self.blocking(self.side.outbox.claim, size, self.side.settings.lease)
        if not claimed:
            return 0
        store = self.side.store
        ids = {kind: [mail.subscriber_id for mail in claimed if mail.kind == kind] for kind in (CONFIRM, CHANGE)}
        found = {CONFIRM: await self.blocking(store.pending_addresses, ids[CONFIRM]),
                 CHANGE: await self.blocking(store.change_addresses, ids[CHANGE])}
        outcomes = await asyncio.gather(*(self._deliver_one(mail, found.get(mail.kind, {}).get(mail.subscriber_id))
                                          for mail in claimed))
        await self.blocking(self.side.outbox.record, outcomes)
        counts = Counter(outcome.state for outcome in outcomes)
        log.info("confirmation emails: %d sent, %d to retry, %d failed, %d no longer needed",
                 counts[MailState.SENT], counts[MailState.PENDING], counts[MailState.FAILED],
                 counts[MailState.CANCELLED])
        return len(claimed)

    async def _purge_when_due(self) -> None:
        # None: someone else purges (under `newsletter run`, the scheduler's purge-pending job).
        if self.purge_every is None or time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + self.purge_every
        purged = await self.blocking(self.side.store.purge, self.side.settings.pending)
        if purged:
            log.info("purged %d sign-up(s) left unconfirmed for %s", purged, self.side.settings.pending)

    async def _deliver_one(self, mail: Claimed, found: tuple[str, str] | None) -> MailOutcome:
        async with self._sending:
            return await self._deliver(mail, found)

    async def _deliver(self, mail: Claimed, found: tuple[str, str] | None) -> MailOutcome:
        if mail.kind == WELCOME:
            return await self._welcome(mail)
        if found is None:  # confirmed (or changed), left or erased since the mail was queued
            return MailOutcome(mail.id, MailState.CANCELLED)
        address, nonce = found
        if mail.kind == CHANGE:  # the nonce is the change's own (store.change_nonce)
            builder, link = self.change_mail, self.side.links.change_url(mail.subscriber_id, nonce)
        else:
            builder, link = self.mail, self.side.links.confirm_url(mail.subscriber_id, nonce)
        returns = self.side.returns
        bounce_to = returns.bounce_address(mail.subscriber_id, nonce) if returns.enabled else ""
        try:
            await self.transport.send(builder.build(address, link, self.side.now(), envelope_sender=bounce_to))
        except PermanentFailure as error:
            log.warning("confirmation mail %d (subscriber %d) refused: %s", mail.id, mail.subscriber_id,
                        _loggable(error))
            return MailOutcome(mail.id, MailState.FAILED, _reason(error))
        except Exception as error:  # temporary failures, and anything a transport did not foresee
            return self._deferred(mail, error)
        return MailOutcome(mail.id, MailState.SENT)

    async def _welcome(self, mail: Claimed) -> MailOutcome:
        """The latest issue for a reader who confirmed; cancelled when no issue was sent yet, the reader
        left meanwhile, or welcomes were turned off since."""
        outgoing = await self.blocking(self.welcome, mail.subscriber_id) if self.welcome is not None else None
        if outgoing is None:
            return MailOutcome(mail.id, MailState.CANCELLED)
        try:
            await self.transport.send(outgoing)
        except PermanentFailure as error:
            log.warning("welcome mail %d (subscriber %d) refused: %s", mail.id, mail.subscriber_id, _loggable(error))
            return MailOutcome(mail.id, MailState.FAILED, _reason(error))
        except Exception as error:
            return self._deferred(mail, error)
        return MailOutcome(mail.id, MailState.SENT)

    def _deferred(self, mail: Claimed, error: Exception) -> MailOutcome:
        reason = _reason(error) if isinstance(error, DeliveryError) else _describe(error)
        if self.side.now() - as_utc(mail.created_at) > self.side.settings.give_up_after:
            log.warning("confirmation mail %d (subscriber %d) given up: %s", mail.id, mail.subscriber_id,
                        _loggable(error))
            return MailOutcome(mail.id, MailState.FAILED, f"gave up: {reason}")
        delay = min(self.retry_after * 2 ** (mail.attempts - 1), self.retry_cap)
        log.warning("confirmation mail %d (subscriber %d) deferred for %s: %s", mail.id, mail.subscriber_id,
                    delay, _loggable(error))
        return MailOutcome(mail.id, MailState.PENDING, reason, delay)


def _log_sign_ups(done: Counter[SignUp]) -> None:
    if done:
        log.info("sign-ups: %s", ", ".join(f"{count} {outcome}" for outcome, count in sorted(done.items())),
                 extra={"event": "signups.done", **{str(outcome): count for outcome, count in done.items()}})


async def _first(one: asyncio.Event, other: asyncio.Event, timeout: float) -> asyncio.Event | None:
    """Whichever event is set first within `timeout` seconds, or None."""
    waits = {asyncio.ensure_future(event.wait()): event for event in (one, other)}
    done, _ = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for waiting in waits:
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
    return next((waits[task] for task in done), None)


def _reason(error: DeliveryError) -> str:
    return f"SMTP {error.code}: {error.reason}" if error.code else error.reason


def _describe(error: BaseException) -> str:
    # Only our own errors have messages known to be free of addresses; others are named by kind.
    return str(error) if isinstance(error, SubscriberError) else type(error).__name__


def _loggable(error: Exception) -> str:
    return scrub(_reason(error)) if isinstance(error, DeliveryError) else _describe(error)
