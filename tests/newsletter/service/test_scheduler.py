"""The schedule: missed runs at start-up, the week each run sends, fixed job ids.

Times come from a clock the tests set (the `now` they pass), never from sleeping. The start-up tests
run a real AsyncIOScheduler and wait on its own events.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from newsletter.config.settings import ScheduleSettings
from newsletter.service.scheduler import (
    PURGE_PENDING,
    RETRY_DEFERRED,
    WEEKLY_SEND,
    add_job,
    build,
    last_fire,
    next_runs,
    plan,
    week_to_send,
)

LONDON = ZoneInfo("Europe/London")



def settings(cron: str = "0 7 * * mon", timezone: str = "Europe/London", catch_up_hours: int = 48) -> ScheduleSettings:
    return ScheduleSettings(cron=cron, timezone=timezone, catch_up_hours=catch_up_hours)


@pytest.mark.parametrize(("now", "first_run", "caught_up"), [
    (datetime(2026, 11, 23, 6, 59, tzinfo=UTC), datetime(2026, 11, 23, 7, 0, tzinfo=UTC), False),
    (datetime(2026, 11, 23, 7, 0, 30, tzinfo=UTC), datetime(2026, 11, 23, 7, 0, tzinfo=UTC), True),
    (datetime(2026, 11, 25, 6, 59, tzinfo=UTC), datetime(2026, 11, 23, 7, 0, tzinfo=UTC), True),
    (datetime(2026, 11, 25, 7, 1, tzinfo=UTC), datetime(2026, 11, 30, 7, 0, tzinfo=UTC), False),
    # After the spring change: the Monday run was at 07:00 BST, 06:00 UTC.
    (datetime(2026, 3, 30, 7, 30, tzinfo=UTC), datetime(2026, 3, 30, 6, 0, tzinfo=UTC), True),
], ids=["before-the-run", "just-missed", "missed-within-48-hours", "missed-longer-ago", "missed-after-dst"])
def test_a_weekly_run_missed_within_catch_up_hours_is_the_first_run(now: datetime, first_run: datetime,
                                                                    caught_up: bool) -> None:
    [weekly, retry, purge] = plan(settings(catch_up_hours=48), now)
    assert (weekly.id, retry.id, purge.id) == (WEEKLY_SEND, RETRY_DEFERRED, PURGE_PENDING)
    assert weekly.first_run == first_run
    assert weekly.caught_up is caught_up
    assert weekly.grace == timedelta(hours=48)
    assert retry.first_run == purge.first_run == now  # both also run at start-up


def test_many_missed_runs_leave_only_the_latest_to_catch_up() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    [weekly, *_] = plan(settings("0 7 * * *", catch_up_hours=72), now)
    assert last_fire(weekly.trigger, now, timedelta(hours=72)) == datetime(2026, 11, 25, 7, 0, tzinfo=LONDON)
    assert weekly.first_run == datetime(2026, 11, 25, 7, 0, tzinfo=LONDON)


def test_each_run_sends_the_last_complete_week_before_its_own_day() -> None:
    runs = next_runs(plan(settings(), datetime(2026, 12, 20, tzinfo=UTC))[0], 3)
    assert [(fire.date(), str(week_to_send(fire))) for fire in runs] == [
        (date(2026, 12, 21), "2026-W51"), (date(2026, 12, 28), "2026-W52"), (date(2027, 1, 4), "2026-W53")]


class Calls:
    """Jobs that only count their runs, and scheduler events to wait on."""

    def __init__(self) -> None:
        self.runs: Counter[str] = Counter()
        self.events: asyncio.Queue[JobExecutionEvent] = asyncio.Queue()

    async def weekly_send(self) -> None:
        self.runs[WEEKLY_SEND] += 1

    async def retry_deferred(self) -> None:
        self.runs[RETRY_DEFERRED] += 1

    async def purge_pending(self) -> None:
        self.runs[PURGE_PENDING] += 1

    def listen(self, scheduler: AsyncIOScheduler) -> None:
        scheduler.add_listener(self.events.put_nowait, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)

    async def next_event(self, job_id: str) -> int:
        while True:
            event = await asyncio.wait_for(self.events.get(), timeout=5)
            if event.job_id == job_id:
                return int(event.code)


@pytest.fixture
async def scheduler() -> AsyncIterator[AsyncIOScheduler]:
    made = AsyncIOScheduler(timezone=UTC)
    yield made
    if made.running:
        made.shutdown(wait=False)
        await asyncio.sleep(0)  # shutdown runs on the loop's next turn


def ten_minutes_ago() -> tuple[ScheduleSettings, datetime]:
    """A daily cron whose run fell ten minutes ago (while "the process was down") and the clock now."""
    now = datetime.now(UTC)
    missed = now - timedelta(minutes=10)
    return settings(f"{missed.minute} {missed.hour} * * *", "UTC", catch_up_hours=48), now


@pytest.mark.anyio
async def test_a_run_missed_while_down_happens_once_at_start_up() -> None:
    schedule_settings, now = ten_minutes_ago()
    calls = Calls()
    scheduler = build(schedule_settings, calls, now)
    calls.listen(scheduler)
    scheduler.start()
    try:
        assert await calls.next_event(WEEKLY_SEND) == EVENT_JOB_EXECUTED
        job = scheduler.get_job(WEEKLY_SEND)
        assert job.next_run_time == plan(schedule_settings, now)[0].first_run + timedelta(days=1)
        assert calls.runs[WEEKLY_SEND] == 1
    finally:
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)


@pytest.mark.anyio
async def test_apschedulers_default_grace_of_one_second_would_drop_the_missed_run(
        scheduler: AsyncIOScheduler) -> None:
    schedule_settings, now = ten_minutes_ago()
    weekly = plan(schedule_settings, now)[0]
    calls = Calls()
    calls.listen(scheduler)
    # The same job and first run time, with APScheduler's defaults for everything else.
    scheduler.add_job(calls.weekly_send, weekly.trigger, id=WEEKLY_SEND, next_run_time=weekly.first_run)
    scheduler.start()
    assert await calls.next_event(WEEKLY_SEND) == EVENT_JOB_MISSED
    assert calls.runs[WEEKLY_SEND] == 0


@pytest.mark.anyio
async def test_three_missed_runs_coalesce_into_one(scheduler: AsyncIOScheduler) -> None:
    schedule_settings, now = ten_minutes_ago()
    weekly = plan(dataclasses.replace(schedule_settings, catch_up_hours=72), now)[0]
    earliest = weekly.first_run - timedelta(days=2)  # as a persisted job store would remember it
    calls = Calls()
    calls.listen(scheduler)
    add_job(scheduler, dataclasses.replace(weekly, first_run=earliest), calls.weekly_send)
    scheduler.start()
    assert await calls.next_event(WEEKLY_SEND) == EVENT_JOB_EXECUTED
    assert calls.runs[WEEKLY_SEND] == 1
    assert scheduler.get_job(WEEKLY_SEND).next_run_time == weekly.first_run + timedelta(days=1)


@pytest.mark.anyio
async def test_jobs_have_fixed_ids_and_adding_one_again_replaces_it() -> None:
    calls = Calls()
    now = datetime.now(UTC)
    scheduler = build(settings(), calls, now)
    scheduler.start(paused=True)
    try:
        for job in plan(settings(), now):
            add_job(scheduler, job, calls.weekly_send)  # a second time: replaced, not duplicated
        jobs = scheduler.get_jobs()
        assert sorted(job.id for job in jobs) == [PURGE_PENDING, RETRY_DEFERRED, WEEKLY_SEND]
        weekly = scheduler.get_job(WEEKLY_SEND)
        assert (weekly.coalesce, weekly.max_instances, weekly.misfire_grace_time) == (True, 1, 48 * 3600)
    finally:
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)
