"""What the schedule runs: the weekly send, the retry of deferred deliveries, and the purge of sign-ups.

Each job is an event in the log (`event=weekly_send` and so on) with the week and the counts, and a
job that fails logs one line and leaves the schedule running. All of them watch one `stop` event:
once it is set no job starts, and a running send stops claiming rows and hands back what it holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.cron import crontab_trigger
from newsletter.config.settings import Config
from newsletter.content.ingest import SourceReport, ingest
from newsletter.content.sources import is_url
from newsletter.db.schema import utcnow
from newsletter.delivery import send_issue as sending
from newsletter.delivery.recipients import Recipients
from newsletter.delivery.tables import DeliveryState
from newsletter.delivery.transports.base import Transport
from newsletter.delivery.transports.configured import make_transport
from newsletter.errors import EditError, IssueStateError, NewsletterError
from newsletter.issues import drafts, life
from newsletter.issues.prepare import PreparedIssue, prepare
from newsletter.issues.selection import Selection
from newsletter.issues.tables import IssueState
from newsletter.service.proofs import ReviewLinks, dry_run, send_proofs, tell_reviewers
from newsletter.service.scheduler import WEEK, last_fire, week_to_send, weekly_trigger
from newsletter.weeks import IsoWeek

log = logging.getLogger("newsletter.schedule")
FETCH_TIMEOUT = httpx.Timeout(20.0, connect=10.0)


class ScheduledWork:
    """The jobs of `newsletter run`, sharing the database, the subscriber side and one stop signal.

    Args:
        config: the settings (`[schedule]`, `[delivery]` and the transport's section).
        sessions: sessions on a database `newsletter init` has set up.
        recipients: the subscriber side's answer to "who gets it" (`SubscriberRecipients`).
        purge: forgets expired sign-ups and says how many (the subscriber store's purge).
        stop: once set, no job starts and a running send winds down.
        transport: makes the transport of one send (closed when the send ends).
        clock: the time, for the weekly send to know which run it is.
        links: signs the Approve and Hold links of the proofs the weekly freeze mails (None: no proofs).
    """

    def __init__(self, config: Config, sessions: sessionmaker[Session], recipients: Recipients,
                 purge: Callable[[], int], stop: asyncio.Event, *,
                 transport: Callable[[], Transport] | None = None,
                 clock: Callable[[], datetime] = utcnow, links: ReviewLinks | None = None) -> None:
        self.config = config
        self.sessions = sessions
        self.recipients = recipients
        self.purge = purge
        self.stop = stop
        self.transport = transport or (lambda: make_transport(config))
        self.clock = clock
        self.links = links
        self.running: set[asyncio.Task[None]] = set()
        self._sending: set[IsoWeek] = set()  # weeks this process is delivering right now

    async def weekly_send(self) -> None:
        """Ingest the configured sources, then send the last complete week (nothing when it is empty)."""
        if self.stop.is_set():
            return
        settings = self.config.schedule
        trigger = weekly_trigger(settings)
        now = self.clock().astimezone(ZoneInfo(settings.timezone))
        # The run being served: the cron time just past, or the missed one a start-up catches up.
        fired = last_fire(trigger, now, WEEK + timedelta(hours=settings.catch_up_hours)) or now
        week = week_to_send(fired)
        fields = {"week": str(week), "scheduled": fired.isoformat()}
        log.info("weekly send of %s (the run due %s)", week, fired.isoformat(),
                 extra={"event": "weekly_send.started", **fields})
        async with self._job("weekly_send", **fields):
            if settings.ingest:
                await self._ingest(settings.ingest)
            prepared = await asyncio.to_thread(self._prepare, week)
            if not isinstance(prepared, PreparedIssue):
                log.info("no excerpts for %s: no issue this week, nothing sent", week,
                         extra={"event": "weekly_send.empty", "week": str(week),
                                "candidates": len(prepared.decisions)})
                return
            await self._deliver(prepared)

    async def weekly_freeze(self) -> None:
        """Make the last complete week's draft and mail its proof, unless the week was decided on already
        (frozen by hand, held, skipped): the editor's word stands."""
        if self.stop.is_set():
            return
        settings = self.config.schedule
        now = self.clock().astimezone(ZoneInfo(settings.timezone))
        trigger = crontab_trigger(self.config.review.freeze, ZoneInfo(settings.timezone))
        fired = last_fire(trigger, now, WEEK + timedelta(hours=settings.catch_up_hours)) or now
        week = week_to_send(fired)
        async with self._job("weekly_freeze", week=str(week)):
            if settings.ingest:
                await self._ingest(settings.ingest)
            prepared = await asyncio.to_thread(self._freeze, week)
            if prepared is None:
                return
            sent = await self._send_proofs(prepared)
            log.info("froze %s: %d excerpt(s); proof sent to %d reviewer(s)", week, len(prepared.rendered.excerpts),
                     sent, extra={"event": "weekly_freeze.done", "week": str(week), "proofs": sent})

    def _freeze(self, week: IsoWeek) -> PreparedIssue | None:
        with self.sessions.begin() as session:
            status = life.current(session, week)
            if status is not None:
                log.info("%s is %s already: the scheduled freeze leaves it", week, status.state.value,
                         extra={"event": "weekly_freeze.skipped", "week": str(week), "state": status.state.value})
                return None
            try:
                return drafts.freeze(self.config, session, week, by="schedule", now=self.clock())
            except EditError as nothing:
                log.info("%s", nothing, extra={"event": "weekly_freeze.empty", "week": str(week)})
                return None

    async def _send_proofs(self, prepared: PreparedIssue) -> int:
        if self.links is None:
            return 0
        count = await asyncio.to_thread(self._readers)
        transport = self.transport()
        try:
            return await send_proofs(self.config, prepared, dry_run(self.config, prepared, count), self.links,
                                     transport, self.clock())
        finally:
            await transport.close()

    def _readers(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(self.recipients.confirmed_ids().subquery())) or 0

    async def tell(self, subject: str, body: str) -> None:
        """A notice to the reviewers; one that cannot be sent is logged, never fatal."""
        transport = self.transport()
        try:
            await tell_reviewers(self.config, transport, subject, body)
        except NewsletterError as error:
            log.warning("could not tell the reviewers (%s): %s", subject, error,
                        extra={"event": "review.notice_failed"})
        finally:
            await transport.close()

    async def retry_deferred(self) -> None:
        """Resume every issue that still has deferred or unfinished deliveries, oldest first; and send the
        weeks approved after their send time had passed (held, or waiting for approval, then)."""
        if self.stop.is_set():
            return
        async with self._job("retry_deferred"):
            weeks = await asyncio.to_thread(self._weeks_with_retries)
            weeks += [week for week in await asyncio.to_thread(self._approved_and_due) if week not in weeks]
            for week in weeks:
                if self.stop.is_set():
                    return
                prepared = await asyncio.to_thread(self._prepare, week)
                if isinstance(prepared, PreparedIssue):
                    await self._deliver(prepared)

    async def purge_pending(self) -> None:
        """Forget sign-ups nobody confirmed within `[subscribers] pending_days`."""
        if self.stop.is_set():
            return
        async with self._job("purge_pending"):
            purged = await asyncio.to_thread(self.purge)
            if purged:
                log.info("purged %d unconfirmed sign-up(s)", purged,
                         extra={"event": "purge_pending.done", "purged": purged})

    async def drain(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for running jobs to wind down; whether they all did."""
        if not self.running:
            return True
        _, pending = await asyncio.wait(set(self.running), timeout=timeout)
        return not pending

    @contextlib.asynccontextmanager
    async def _job(self, event: str, **fields: str) -> AsyncIterator[None]:
        """Track the running job (for `drain`) and turn its failure into one log line."""
        task = asyncio.current_task()
        assert task is not None
        self.running.add(task)
        try:
            yield
        except NewsletterError as error:
            log.error("%s failed: %s", event.replace("_", " "), error, extra={"event": f"{event}.failed", **fields})
        except Exception as error:  # a bug: one line naming it (the formatter redacts it), no traceback
            log.error("%s failed unexpectedly: %s: %s", event.replace("_", " "), type(error).__name__, error,
                      extra={"event": f"{event}.failed", **fields})
        finally:
            self.running.discard(task)

    async def _deliver(self, prepared: PreparedIssue) -> None:
        week = prepared.week
        if self.stop.is_set():
            return
        if week in self._sending:  # the weekly send and a retry met on one issue: one sender is enough
            return
        self._sending.add(week)
        try:
            try:
                started = await asyncio.to_thread(partial(sending.start, self.sessions, prepared, self.recipients,
                                                          approval_needed=self.config.review.mode == "approve",
                                                          by="schedule"))
            except IssueStateError as refused:
                log.info("%s", refused, extra={"event": "send.refused", "week": str(week), "state": refused.state})
                if self.config.review.mode == "approve" and refused.state in ("draft", "not drafted yet"):
                    await self.tell(f"Waiting for approval: {week}",
                                    f"The issue of {week} was due to be sent, but [review] mode is \"approve\" and "
                                    f"nobody has approved it.\n\n    newsletter issue approve --week {week}\n\n"
                                    "or the Approve link of its proof lets it go; the next run sends it.\n")
                return
            log.info("%s issue %s: %d recipient(s), %d to send", "created" if started.created else "resuming",
                     week, started.total, started.todo,
                     extra={"event": "send.started", "week": str(week), "new_issue": started.created,
                            "recipients": started.total, "todo": started.todo})
            if not started.todo:
                return
            transport = self.transport()
            try:
                tally = await sending.deliver(self.config, self.sessions, prepared, started.issue_id,
                                              self.recipients, transport, stop=self.stop, tell=self.tell)
            finally:
                await transport.close()
        finally:
            self._sending.discard(week)
        counts = {state.value: tally.states[state] for state in
                  (DeliveryState.SENT, DeliveryState.DEFERRED, DeliveryState.FAILED, DeliveryState.SKIPPED)}
        log.info("issue %s: %d sent, %d deferred, %d failed, %d skipped%s", week, *counts.values(),
                 " (stopped for shutdown)" if self.stop.is_set() else "",
                 extra={"event": "send.finished", "week": str(week), **counts,
                        "stopped": self.stop.is_set()})

    async def _ingest(self, sources: list[str]) -> None:
        """Read the sources; what cannot be read is logged, and the week is sent from what is stored."""
        try:
            outcomes = await asyncio.to_thread(self._read, sources)
        except NewsletterError as error:
            log.warning("ingest failed: %s; sending from the excerpts already stored", error,
                        extra={"event": "ingest.failed"})
            return
        for outcome in outcomes:
            if not outcome.ok:
                log.warning("ingest of %s failed: %s", outcome.name, outcome.error,
                            extra={"event": "ingest.failed", "source": outcome.name})
        log.info("ingested %d source(s): %d excerpt(s), %d new", len(outcomes),
                 sum(o.found for o in outcomes), sum(o.new for o in outcomes),
                 extra={"event": "ingest.done", "sources": len(outcomes), "found": sum(o.found for o in outcomes),
                        "new": sum(o.new for o in outcomes), "failed": sum(not o.ok for o in outcomes)})

    def _read(self, sources: list[str]) -> list[SourceReport]:
        # Files and folders in the config are relative to the config file, like every other path there.
        sources = [source if is_url(source) else str(self.config.path(source)) for source in sources]
        with httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=True,
                          headers={"User-Agent": "newsletter-ingest/1.0"}) as client:
            return ingest(sources, self.sessions, client, settings=self.config.ingest_settings())

    def _prepare(self, week: IsoWeek) -> PreparedIssue | Selection:
        with self.sessions() as session:
            return prepare(self.config, session, week)

    def _approved_and_due(self) -> list[IsoWeek]:
        settings = self.config.schedule
        now = self.clock().astimezone(ZoneInfo(settings.timezone))
        fired = last_fire(weekly_trigger(settings), now, WEEK)
        if fired is None:
            return []
        due = week_to_send(fired)
        with self.sessions() as session:
            return [week for week in life.weeks_in(session, IssueState.APPROVED) if week <= due]

    def _weeks_with_retries(self) -> list[IsoWeek]:
        with self.sessions() as session:
            return sending.weeks_with_retries(session)
