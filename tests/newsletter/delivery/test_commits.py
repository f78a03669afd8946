"""Outcome commits on SQLite: on the event loop when the database is free, in a thread when it is not."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Engine, select, text

from newsletter.db.transient import patiently
from newsletter.delivery import ledger
from newsletter.delivery.commits import OutcomeCommits
from newsletter.delivery.ledger import Outcome
from newsletter.delivery.tables import DeliveryRow, DeliveryState
from tests.newsletter.delivery.sends import make_send, readers

T = TypeVar("T")
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
LOCK_SECONDS = 0.5
pytestmark = pytest.mark.anyio


def _claimed(tmp_path: Path, engine: Engine, database_url: str) -> list[int]:
    send = make_send(tmp_path, engine, database_url, readers(2))
    with send.sessions.begin() as session:
        claims = ledger.claim(session, send.issue_id, limit=2, lease_seconds=30, now=NOW, owner="test")
    return [c.delivery_id for c in claims]


def _commits(engine: Engine) -> OutcomeCommits:
    async def patient(step: Callable[[], T], doing: str) -> T:
        return await patiently(step, patience=10, doing=doing)

    return OutcomeCommits(engine, lambda: NOW, patient)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_outcome_commit_that_finds_the_database_locked_waits_in_a_thread_not_on_the_event_loop(
        tmp_path: Path, engine: Engine, database_url: str) -> None:
    first, second = _claimed(tmp_path, engine, database_url)
    commits = _commits(engine)
    locked, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with engine.connect() as connection:
            connection.execute(text("BEGIN IMMEDIATE"))
            locked.set()
            release.wait()
            connection.rollback()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    locked.wait()
    turns = 0

    async def other_work() -> None:
        nonlocal turns
        while not release.is_set():
            turns += 1
            await asyncio.sleep(0.01)

    loop = asyncio.get_running_loop()
    loop.call_later(LOCK_SECONDS, release.set)
    try:
        await asyncio.gather(commits([Outcome(first, DeliveryState.SENT)]), other_work())
        await commits([Outcome(second, DeliveryState.SENT)])  # the lock is free: on the event loop again
    finally:
        release.set()
        holder.join()
        commits.close()
    assert turns > 2  # the event loop went on while the commit waited for the lock (blocked: one turn)
    with engine.connect() as connection:
        states = set(connection.scalars(select(DeliveryRow.state).where(DeliveryRow.id.in_([first, second]))))
    assert states == {DeliveryState.SENT}
