"""The one lifecycle of the service: `SignupServer` is `newsletter serve` (the sign-up endpoint under
uvicorn, with the outbox worker beside it in one event loop); `Service` is `newsletter run` (the same,
plus the scheduler and its jobs), with one way to start and one way to drain on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine

from newsletter.config.settings import Config
from newsletter.db.engine import sessions
from newsletter.db.schema import utcnow
from newsletter.delivery.transports.base import Transport
from newsletter.delivery.transports.configured import make_transport
from newsletter.mail.dkim import DkimSigner
from newsletter.service import scheduler as schedule
from newsletter.service.connections import site_config
from newsletter.service.jobs import ScheduledWork
from newsletter.service.proofs import ReviewLinks
from newsletter.service.returned_mail import ReturnedMail
from newsletter.service.site import site
from newsletter.service.welcome import WelcomeIssue
from newsletter.templating import check_templates
from subscribers.blocking import Blocking
from subscribers.confirmation import ConfirmationMail
from subscribers.pages import Pages
from subscribers.recipients import SubscriberRecipients
from subscribers.side import Subscribers
from subscribers.traffic import Traffic
from subscribers.worker import OutboxWorker

log = logging.getLogger("subscribers.server")
run_log = logging.getLogger("newsletter.run")
WORKER_STOP_SECONDS = 10
TIME = "%a %d %b %Y %H:%M %Z"
WATCH_SECONDS = 0.1  # how often to look whether uvicorn caught SIGTERM/SIGINT (uvicorn's own tick)


class _Uvicorn(uvicorn.Server):
    """uvicorn, minus its habit of re-raising SIGTERM once HTTP has stopped: that would kill the process
    before the worker and the transport are shut down. Here the signal only starts the shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class SignupServer:
    """One process: HTTP on `host:port`, and the worker that sends what sign-ups queue."""

    def __init__(self, config: Config, engine: Engine, *, host: str, port: int,
                 transport: Transport | None = None, poll_seconds: float = 5.0,
                 purge_every: float | None = 3600.0) -> None:
        check_templates(config)  # as the CLI does on loading: a process started another way checks too
        self.side = Subscribers(config, engine)
        pages = Pages(config, self.side.signer, self.side.now)
        pages.check()
        self.transport = transport if transport is not None else make_transport(config)
        blocking = Blocking(engine)
        signer = DkimSigner.from_config(config)
        mail = ConfirmationMail(config, sign=signer.sign if signer is not None else None)
        welcome = (WelcomeIssue(config, sessions(engine), SubscriberRecipients(config, engine, side=self.side))
                   if self.side.settings.welcome else None)
        # The worker's batches wait for a quiet moment on the site: a burst of sign-ups is answered first.
        traffic = Traffic()
        self.worker = OutboxWorker(self.side, self.transport, mail, welcome=welcome, blocking=blocking,
                                   poll_seconds=poll_seconds, purge_every=purge_every, traffic=traffic)
        app = traffic.count(site(self.side, pages, wake=self.worker.wake, blocking=blocking))
        self.uvicorn = _Uvicorn(site_config(app, config.web, host=host, port=port,
                                            timeout_graceful_shutdown=WORKER_STOP_SECONDS))

    @property
    def port(self) -> int:
        """The port it listens on (useful after asking for port 0)."""
        return int(self.uvicorn.servers[0].sockets[0].getsockname()[1])

    @property
    def started(self) -> bool:
        return bool(self.uvicorn.started)

    def stop(self) -> None:
        """Ask it to finish; safe from another thread."""
        self.uvicorn.should_exit = True

    async def run(self) -> None:
        """Serve until SIGINT/SIGTERM (or `stop()`); the worker finishes its current mail, then stops."""
        stop = asyncio.Event()
        worker = asyncio.create_task(self.worker.run(stop))
        try:
            with frozen_heap():
                await self.uvicorn.serve()
        finally:
            stop.set()
            try:
                await asyncio.wait_for(worker, WORKER_STOP_SECONDS)
            except TimeoutError:
                log.warning("outbox worker did not stop in %.0f s; unfinished mail is retried on restart",
                            WORKER_STOP_SECONDS)
            await self.transport.close()


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """While serving, leave what start-up made (modules, templates, the database's metadata) out of the
    garbage collector's full collections: walking all of it stopped every request for 70-90 ms every few
    seconds under load (the sign-up endpoint's p99, issue #16). Cycles made while serving are still collected.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class Service:
    """The sign-up endpoint, the confirmation-email worker and the scheduler, on one event loop.

    On SIGTERM or SIGINT nothing new starts: HTTP stops accepting, the worker finishes its mail, and a
    send in progress finishes the messages in flight and hands back the rows it claimed but did not
    try. All of that gets `[delivery] drain_seconds`; whatever is still running then is cancelled (its
    claims are taken at once by the next run on this host, this process being gone, or after their
    lease by another) and the process exits 0. A second signal cuts the wait short.
    """

    def __init__(self, config: Config, engine: Engine, *, host: str, port: int,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.config = config
        self.clock = clock
        # The scheduler's purge-pending job forgets expired sign-ups; the worker need not as well.
        self.server = SignupServer(config, engine, host=host, port=port, purge_every=None)
        side = self.server.side
        self.stop = asyncio.Event()
        self.work = ScheduledWork(config, sessions(engine), SubscriberRecipients(config, engine),
                                  purge=lambda: side.store.purge(side.settings.pending), stop=self.stop,
                                  clock=clock, links=ReviewLinks(side.signer, config.web.base_url,
                                                                 config.review.link_hours))
        self.returned = ReturnedMail(config, sessions(engine), side)
        self.drain_seconds = config.delivery.drain_seconds
        http = self.server.uvicorn.config
        # Open HTTP requests get the same deadline as everything else, never more.
        http.timeout_graceful_shutdown = min(http.timeout_graceful_shutdown or self.drain_seconds,
                                             self.drain_seconds)
        self._stopping_at: float | None = None

    async def run(self) -> None:
        """Serve until SIGTERM/SIGINT, then wind everything down within drain_seconds."""
        freeze = (self.config.review.freeze, self.work.weekly_freeze) if self.config.review.freeze else None
        scheduler = schedule.build(self.config.schedule, self.work, self.clock(), freeze=freeze)
        worker = asyncio.create_task(self.server.worker.run(self.stop), name="outbox-worker")
        watcher = asyncio.create_task(self._watch_for_exit(), name="exit-watcher")
        scheduler.start()
        self._announce(scheduler)
        intake = await self.returned.start(self.stop)
        try:
            with frozen_heap():
                await self.server.uvicorn.serve()
        finally:
            self._begin_stop()
            watcher.cancel()
            await self.returned.close()
            await self._drain(scheduler, worker, *intake)

    async def _watch_for_exit(self) -> None:
        # uvicorn owns the signal handlers while it serves; the rest of the service stops with it.
        while not self.server.uvicorn.should_exit:
            await asyncio.sleep(WATCH_SECONDS)
        self._begin_stop()

    def _begin_stop(self) -> None:
        if self._stopping_at is None:
            self._stopping_at = asyncio.get_running_loop().time()
            run_log.info("stopping: no new work; finishing what is in flight within %.0f s", self.drain_seconds,
                     extra={"event": "run.stopping", "drain_seconds": self.drain_seconds})
        self.stop.set()

    async def _drain(self, scheduler: AsyncIOScheduler, worker: asyncio.Task[None],
                     *others: asyncio.Task[None]) -> None:
        loop = asyncio.get_running_loop()
        scheduler.pause()
        hurry = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, hurry.set)
        try:
            assert self._stopping_at is not None
            left = max(self._stopping_at + self.drain_seconds - loop.time(), 0.0)
            busy = {worker, *others, *self.work.running}
            everything = asyncio.ensure_future(asyncio.wait(busy))
            cut_short = asyncio.ensure_future(hurry.wait())
            await asyncio.wait({everything, cut_short}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            everything.cancel()
            cut_short.cancel()
            late = [task for task in busy if not task.done()]
            for task in late:
                task.cancel()
            if late:
                run_log.warning("%d task(s) still running after %.0f s were cancelled; a send's unfinished rows are "
                            "tried again by the next run", len(late), self.drain_seconds,
                            extra={"event": "run.cancelled", "tasks": len(late)})
            await asyncio.gather(*late, return_exceptions=True)
            # Only now: shutting the scheduler down cancels the jobs its executor still tracks.
            scheduler.shutdown(wait=False)
            await self.server.transport.close()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        run_log.info("stopped", extra={"event": "run.stopped"})

    def _announce(self, scheduler: AsyncIOScheduler) -> None:
        zone = ZoneInfo(self.config.schedule.timezone)
        config = self.server.uvicorn.config
        run_log.info("newsletter run: sign-up page on http://%s:%s/, links in emails use %s", config.host,
                 config.port, self.config.web.base_url, extra={"event": "run.started"})
        now = self.clock()
        for job in scheduler.get_jobs():
            due = job.next_run_time.astimezone(zone)
            if job.id == schedule.WEEKLY_SEND and due < now:
                run_log.info("the weekly send due %s was missed while the service was down: running it now",
                         f"{due:{TIME}}", extra={"event": "schedule.catch_up", "job": job.id,
                                                 "due": due.isoformat(), "week": str(schedule.week_to_send(due))})
                continue
            run_log.info("job %s: next run %s", job.id, f"{due:{TIME}}",
                     extra={"event": "schedule.job", "job": job.id, "next_run": due.isoformat()})
