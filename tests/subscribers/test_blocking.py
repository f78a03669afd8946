"""Database calls off the event loop: one thread on SQLite, the caller's answer or error, cancellation
that waits for the call to end."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from newsletter.db.engine import connect
from subscribers.blocking import Blocking

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def on_sqlite(sqlite_url: str) -> Iterator[Blocking]:
    engine = connect(sqlite_url)
    yield Blocking(engine)
    engine.dispose()


async def test_a_call_runs_off_the_event_loop_and_its_result_comes_back(on_sqlite: Blocking) -> None:
    result, thread = await on_sqlite(lambda a, b: (a + b, threading.current_thread()), 2, 3)
    assert result == 5
    assert thread is not threading.current_thread()


async def test_an_error_in_the_call_is_raised_to_the_caller(on_sqlite: Blocking) -> None:
    def fail() -> None:
        raise ValueError("no such table")

    with pytest.raises(ValueError, match="no such table"):
        await on_sqlite(fail)
    assert await on_sqlite(lambda: "still working") == "still working"


async def test_on_sqlite_calls_run_one_at_a_time_on_one_thread(on_sqlite: Blocking) -> None:
    running = 0
    most = 0
    threads: set[threading.Thread] = set()
    lock = threading.Lock()

    def write() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            threads.add(threading.current_thread())
        threading.Event().wait(0.01)
        with lock:
            running -= 1

    await asyncio.gather(*(on_sqlite(write) for _ in range(8)))
    assert most == 1
    assert len(threads) == 1


@pytest.mark.postgres
async def test_on_postgresql_several_calls_run_at_once(postgres_url: str) -> None:
    engine = connect(postgres_url)
    runner = Blocking(engine)
    arrived = threading.Barrier(3, timeout=5)
    try:
        # Three calls that each wait for the other two: they only finish if they run side by side.
        await asyncio.gather(*(runner(arrived.wait) for _ in range(3)))
    finally:
        engine.dispose()


async def test_a_cancelled_caller_waits_for_its_call_to_end_then_is_cancelled(on_sqlite: Blocking) -> None:
    started = threading.Event()
    release = threading.Event()
    finished: list[str] = []

    def commit() -> None:
        started.set()
        release.wait(5)
        finished.append("committed")

    caller = asyncio.ensure_future(on_sqlite(commit))
    await asyncio.to_thread(started.wait, 5)
    caller.cancel()
    await asyncio.sleep(0.05)
    assert not caller.done()  # still waiting for the call, which may be inside a transaction
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert finished == ["committed"]


async def test_an_idle_thread_ends_and_the_next_call_starts_another(sqlite_url: str) -> None:
    engine = connect(sqlite_url)
    runner = Blocking(engine, idle_seconds=0.05)
    try:
        first = await runner(threading.current_thread)
        await asyncio.to_thread(first.join, 5)
        assert not first.is_alive()
        second = await runner(threading.current_thread)
        assert second is not first
        assert await runner(lambda: 42) == 42
    finally:
        engine.dispose()
