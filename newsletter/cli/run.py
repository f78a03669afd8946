"""`newsletter run`: the whole service in one process; `newsletter schedule`: what it will run, and when."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import click
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine

from newsletter.service import logs
from newsletter.service import scheduler as schedule
from newsletter.cli.app import App, pass_app
from newsletter.config.settings import Config
from newsletter.db.engine import sessions
from newsletter.content.tables import utcnow
from newsletter.service.jobs import ScheduledWork
from subscribers.recipients import SubscriberRecipients
from newsletter.service.lifecycle import SignupServer

log = logging.getLogger("newsletter.run")
TIME = "%a %d %b %Y %H:%M %Z"
WATCH_SECONDS = 0.1  # how often to look whether uvicorn caught SIGTERM/SIGINT (uvicorn's own tick)


class Service:
    """The sign-up endpoint, the confirmation-email worker and the scheduler, on one event loop.

    On SIGTERM or SIGINT nothing new starts: HTTP stops accepting, the worker finishes its mail, and a
    send in progress finishes the messages in flight and hands back the rows it claimed but did not
    try. All of that gets `[delivery] drain_seconds`; whatever is still running then is cancelled (its
    claims come back after their lease) and the process exits 0. A second signal cuts the wait short.
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
                                  purge=lambda: side.store.purge(side.settings.pending), stop=self.stop)
        self.drain_seconds = config.delivery.drain_seconds
        http = self.server.uvicorn.config
        # Open HTTP requests get the same deadline as everything else, never more.
        http.timeout_graceful_shutdown = min(http.timeout_graceful_shutdown or self.drain_seconds,
                                             self.drain_seconds)
        self._stopping_at: float | None = None

    async def run(self) -> None:
        """Serve until SIGTERM/SIGINT, then wind everything down within drain_seconds."""
        scheduler = schedule.build(self.config.schedule, self.work, self.clock())
        worker = asyncio.create_task(self.server.worker.run(self.stop), name="outbox-worker")
        watcher = asyncio.create_task(self._watch_for_exit(), name="exit-watcher")
        scheduler.start()
        self._announce(scheduler)
        try:
            await self.server.uvicorn.serve()
        finally:
            self._begin_stop()
            watcher.cancel()
            await self._drain(scheduler, worker)

    async def _watch_for_exit(self) -> None:
        # uvicorn owns the signal handlers while it serves; the rest of the service stops with it.
        while not self.server.uvicorn.should_exit:
            await asyncio.sleep(WATCH_SECONDS)
        self._begin_stop()

    def _begin_stop(self) -> None:
        if self._stopping_at is None:
            self._stopping_at = asyncio.get_running_loop().time()
            log.info("stopping: no new work; finishing what is in flight within %.0f s", self.drain_seconds,
                     extra={"event": "run.stopping", "drain_seconds": self.drain_seconds})
        self.stop.set()

    async def _drain(self, scheduler: AsyncIOScheduler, worker: asyncio.Task[None]) -> None:
        loop = asyncio.get_running_loop()
        scheduler.pause()
        hurry = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, hurry.set)
        try:
            assert self._stopping_at is not None
            left = max(self._stopping_at + self.drain_seconds - loop.time(), 0.0)
            busy = {worker, *self.work.running}
            everything = asyncio.ensure_future(asyncio.wait(busy))
            cut_short = asyncio.ensure_future(hurry.wait())
            await asyncio.wait({everything, cut_short}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            everything.cancel()
            cut_short.cancel()
            late = [task for task in busy if not task.done()]
            for task in late:
                task.cancel()
            if late:
                log.warning("%d task(s) still running after %.0f s were cancelled; a send's unfinished rows are "
                            "tried again once their lease ends", len(late), self.drain_seconds,
                            extra={"event": "run.cancelled", "tasks": len(late)})
            await asyncio.gather(*late, return_exceptions=True)
            # Only now: shutting the scheduler down cancels the jobs its executor still tracks.
            scheduler.shutdown(wait=False)
            await self.server.transport.close()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        log.info("stopped", extra={"event": "run.stopped"})

    def _announce(self, scheduler: AsyncIOScheduler) -> None:
        zone = ZoneInfo(self.config.schedule.timezone)
        config = self.server.uvicorn.config
        log.info("newsletter run: sign-up page on http://%s:%s/, links in emails use %s", config.host,
                 config.port, self.config.web.base_url, extra={"event": "run.started"})
        now = self.clock()
        for job in scheduler.get_jobs():
            due = job.next_run_time.astimezone(zone)
            if job.id == schedule.WEEKLY_SEND and due < now:
                log.info("the weekly send due %s was missed while the service was down: running it now",
                         f"{due:{TIME}}", extra={"event": "schedule.catch_up", "job": job.id,
                                                 "due": due.isoformat(), "week": str(schedule.week_to_send(due))})
                continue
            log.info("job %s: next run %s", job.id, f"{due:{TIME}}",
                     extra={"event": "schedule.job", "job": job.id, "next_run": due.isoformat()})


@click.command()
@click.option("--host", help="Address to listen on (default: [web] host).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port to listen on (default: [web] port).")
@pass_app
def run(app: App, host: str | None, port: int | None) -> None:
    """Run the service: the sign-up page, its confirmation emails, and the weekly send on schedule.

    One process for systemd (see deploy/). Logs go to stderr, one line per event, as `[logging] format`
    says. SIGTERM or Ctrl-C stops it cleanly within `[delivery] drain_seconds`.
    """
    app.sessions  # noqa: B018  (checks the schema before anything starts)
    logs.install(app.config.logging.format, app.config.logging.level)
    service = Service(app.config, app.engine, host=host or app.config.web.host,
                      port=app.config.web.port if port is None else port)
    asyncio.run(service.run())


@click.command("schedule")
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as one JSON object.")
@click.option("--count", type=click.IntRange(1, 52), default=3, show_default=True,
              help="How many weekly send times to show.")
@pass_app
def schedule_command(app: App, as_json: bool, count: int) -> None:
    """Show the jobs `newsletter run` runs and when, in the time zone of `[schedule] timezone`."""
    settings = app.config.schedule
    zone = ZoneInfo(settings.timezone)
    jobs = schedule.plan(settings, utcnow())
    entries: list[dict[str, object]] = []
    rows = []
    for job in jobs:
        weekly = job.id == schedule.WEEKLY_SEND
        runs = [moment.astimezone(zone) for moment in schedule.next_runs(job, count if weekly else 1)]
        entry: dict[str, object] = {"id": job.id, "name": job.name, "every": job.every,
                                    "next_runs": [moment.isoformat() for moment in runs]}
        if weekly:
            entry["weeks"] = [str(schedule.week_to_send(moment)) for moment in runs]
            entry["missed_run_due"] = job.caught_up
        entries.append(entry)
        rows.append((job, runs))
    if as_json:
        click.echo(json.dumps({"timezone": settings.timezone, "catch_up_hours": settings.catch_up_hours,
                               "jobs": entries}))
        return
    say = app.console.print
    say(f"Jobs of `newsletter run`, times in {settings.timezone}:", markup=False)
    for job, runs in rows:
        say(f"  {job.id:<15} {job.name}, {job.every}", markup=False)
        if job.id != schedule.WEEKLY_SEND:
            say("      first run when `newsletter run` starts", markup=False)
            continue
        for index, moment in enumerate(runs):
            note = ""
            if index == 0 and job.caught_up:
                note = "  (already due: if `newsletter run` was down then, it runs this at start-up)"
            say(f"      {moment:{TIME}}  sends {schedule.week_to_send(moment)}{note}", markup=False)
    say(f"A weekly send missed while `newsletter run` is down runs once at start-up if at most "
        f"{settings.catch_up_hours} h late; an issue is never sent twice for one week.", markup=False)


COMMANDS = [run, schedule_command]
