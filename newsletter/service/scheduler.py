"""The schedule of `newsletter run`: an APScheduler 3 `AsyncIOScheduler` with three jobs.

- `weekly-send` (cron from `[schedule]`, in its time zone): ingest `[schedule] ingest`, then send the
  last complete ISO week; a week without excerpts sends nothing.
- `retry-deferred` (every `retry_minutes`): resume every issue with deferred or unfinished rows.
- `purge-pending` (hourly): forget sign-ups left unconfirmed past `[subscribers] pending_days`.
- `weekly-freeze` (`[review] freeze`, when set): make the last complete week's draft and proof it.

Missed runs: the job store is in memory, so at start-up nothing remembers a weekly run that fell
while the process was down. `plan` finds it instead: the latest cron time within `catch_up_hours`
becomes the job's first run time, so the scheduler runs it at once, one time (coalesce), and the
job's `misfire_grace_time` is the same window (APScheduler's default of one second would drop it).
Whether that run sends anything is for the database to say: an issue is unique per ISO week, so
this process, another one on another machine and a manual `newsletter send` all end up on the
same issue, and a catch-up after a send that did happen only resumes it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from newsletter.config.cron import CrontabTrigger, crontab_trigger
from newsletter.config.settings import ScheduleSettings
from newsletter.weeks import IsoWeek

WEEKLY_SEND = "weekly-send"
WEEKLY_FREEZE = "weekly-freeze"
RETRY_DEFERRED = "retry-deferred"
PURGE_PENDING = "purge-pending"
PURGE_EVERY = timedelta(hours=1)
WEEK = timedelta(days=7)

def weekly_trigger(settings: ScheduleSettings) -> CrontabTrigger:
    """The weekly send's trigger: `[schedule] cron` in `[schedule] timezone`."""
    return crontab_trigger(settings.cron, ZoneInfo(settings.timezone))


def last_fire(trigger: BaseTrigger, now: datetime, within: timedelta) -> datetime | None:
    """The latest time `trigger` fired in the `within` before `now` (inclusive), or None."""
    last = None
    fire = trigger.get_next_fire_time(None, now - within)
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire)
    return last


def week_to_send(fired: datetime) -> IsoWeek:
    """The issue a weekly run that fired at `fired` (in the schedule's zone) sends: the last complete week."""
    return IsoWeek.last_complete(fired.date())


@dataclass(frozen=True)
class PlannedJob:
    """One job as `newsletter run` starts it: what it runs on, and when it runs first."""

    id: str
    name: str
    trigger: BaseTrigger
    every: str
    first_run: datetime
    grace: timedelta
    caught_up: bool = False  # the first run is a weekly run missed while the process was down


def plan(settings: ScheduleSettings, now: datetime) -> list[PlannedJob]:
    """The jobs, with their first run times as of `now` (an aware datetime)."""
    zone = ZoneInfo(settings.timezone)
    now = now.astimezone(zone)
    weekly = weekly_trigger(settings)
    catch_up = timedelta(hours=settings.catch_up_hours)
    missed = last_fire(weekly, now, catch_up)
    first = missed or weekly.get_next_fire_time(None, now)
    assert first is not None  # a crontab line without an end date always fires again
    retry = timedelta(minutes=settings.retry_minutes)
    return [
        PlannedJob(WEEKLY_SEND, "weekly send", weekly, f"cron {settings.cron!r}", first,
                   catch_up, caught_up=missed is not None),
        # Both start at once: a send a crash left unfinished resumes when the process comes back.
        PlannedJob(RETRY_DEFERRED, "retry deferred deliveries", IntervalTrigger(seconds=retry.total_seconds(),
                   start_date=now, timezone=zone), f"every {settings.retry_minutes} min", now, retry),
        PlannedJob(PURGE_PENDING, "purge expired sign-ups", IntervalTrigger(seconds=PURGE_EVERY.total_seconds(),
                   start_date=now, timezone=zone), "every hour", now, PURGE_EVERY),
    ]


def freeze_job(settings: ScheduleSettings, freeze: str, now: datetime) -> PlannedJob:
    """The weekly freeze (`[review] freeze`, in `[schedule] timezone`), caught up like the weekly send."""
    zone = ZoneInfo(settings.timezone)
    now = now.astimezone(zone)
    trigger = crontab_trigger(freeze, zone)
    catch_up = timedelta(hours=settings.catch_up_hours)
    missed = last_fire(trigger, now, catch_up)
    first = missed or trigger.get_next_fire_time(None, now)
    assert first is not None
    return PlannedJob(WEEKLY_FREEZE, "weekly freeze", trigger, f"cron {freeze!r}", first, catch_up,
                      caught_up=missed is not None)


def next_runs(job: PlannedJob, count: int) -> list[datetime]:
    """The job's first `count` run times (a caught-up weekly run first)."""
    runs = [job.first_run]
    while len(runs) < count:
        following = job.trigger.get_next_fire_time(runs[-1], runs[-1])
        if following is None:
            break
        runs.append(following)
    return runs


class Jobs(Protocol):
    """The work the schedule starts; `newsletter.scheduled.ScheduledWork` is the real one."""

    async def weekly_send(self) -> None: ...

    async def retry_deferred(self) -> None: ...

    async def purge_pending(self) -> None: ...


def build(settings: ScheduleSettings, jobs: Jobs, now: datetime, *,
          freeze: tuple[str, Callable[[], Awaitable[None]]] | None = None) -> AsyncIOScheduler:
    """An AsyncIOScheduler (not started) holding the planned jobs under their fixed ids; `freeze` adds the
    weekly freeze (its crontab line and what it runs)."""
    scheduler = AsyncIOScheduler(timezone=ZoneInfo(settings.timezone))
    calls: dict[str, Callable[[], Awaitable[None]]] = {
        WEEKLY_SEND: jobs.weekly_send, RETRY_DEFERRED: jobs.retry_deferred, PURGE_PENDING: jobs.purge_pending,
    }
    for job in plan(settings, now):
        add_job(scheduler, job, calls[job.id])
    if freeze is not None:
        add_job(scheduler, freeze_job(settings, freeze[0], now), freeze[1])
    return scheduler


def add_job(scheduler: AsyncIOScheduler, job: PlannedJob, call: Callable[[], Awaitable[None]]) -> None:
    """Add one planned job: a fixed id replacing any job of that id, one run for many missed ones
    (coalesce), never two at once, and a misfire grace as long as the job's own window."""
    options: dict[str, Any] = {
        "id": job.id, "name": job.name, "replace_existing": True, "coalesce": True, "max_instances": 1,
        "misfire_grace_time": int(job.grace.total_seconds()), "next_run_time": job.first_run,
    }
    scheduler.add_job(call, job.trigger, **options)
