"""The group commit of outcomes: in order, shared by whoever is waiting, and never past a failed write."""

from __future__ import annotations

import asyncio

import pytest

from newsletter.delivery.ledger import Outcome
from newsletter.delivery.recorder import OutcomeWriter
from newsletter.delivery.tables import DeliveryState
from newsletter.errors import DatabaseUnavailable

pytestmark = pytest.mark.anyio


def sent(delivery_id: int) -> Outcome:
    return Outcome(delivery_id, DeliveryState.SENT)


class Database:
    """Records each commit; the commit numbered `fail_at` fails, as a database gone for good would."""

    def __init__(self, fail_at: int = 0) -> None:
        self.commits: list[list[int]] = []
        self.fail_at = fail_at
        self.writing = asyncio.Event()

    async def write(self, outcomes: list[Outcome]) -> None:
        self.writing.set()
        await asyncio.sleep(0.01)
        if len(self.commits) + 1 == self.fail_at:
            self.commits.append([])
            raise DatabaseUnavailable("recording outcomes", 1, "database is locked")
        self.commits.append([o.delivery_id for o in outcomes])


async def test_outcomes_handed_over_while_a_commit_runs_share_the_next_one_in_order() -> None:
    database = Database()
    writer = OutcomeWriter(database.write)
    first = asyncio.ensure_future(_wait(writer.submit([sent(1)])))
    await database.writing.wait()  # the first commit is under way
    later = [writer.submit([sent(n)]) for n in (2, 3, 4)]
    await first
    await asyncio.gather(*(_wait(w) for w in later))
    assert database.commits == [[1], [2, 3, 4]]


async def test_an_outcome_nobody_waits_for_is_written_all_the_same() -> None:
    database = Database()
    writer = OutcomeWriter(database.write, wait=0.01)
    writer.submit([sent(1), sent(2)])
    for _ in range(100):
        if database.commits:
            break
        await asyncio.sleep(0.01)
    assert database.commits == [[1, 2]]


async def test_after_a_write_fails_nothing_later_is_written() -> None:
    database = Database(fail_at=1)
    writer = OutcomeWriter(database.write)
    first = writer.submit([sent(1)])
    with pytest.raises(DatabaseUnavailable):
        await first
    second = writer.submit([sent(2)])
    with pytest.raises(DatabaseUnavailable):
        await second
    assert database.commits == [[]]


async def test_while_outcomes_come_close_together_a_commit_waits_to_take_the_next_ones_too() -> None:
    database = Database()
    writer = OutcomeWriter(database.write, wait=3600, gather=0.5, waiters=4)  # only the gathering ends it
    first = writer.submit([sent(1)])
    waiting = asyncio.ensure_future(_wait(writer.submit([sent(2)])))  # came right after: the process is busy
    await asyncio.sleep(0.01)  # within the gathering time: nothing written yet
    assert database.commits == []
    third = writer.submit([sent(3)])
    await asyncio.wait_for(asyncio.gather(waiting, _wait(first), _wait(third)), timeout=30)
    assert database.commits == [[1, 2, 3]]


async def test_a_gathering_commit_starts_at_once_when_every_worker_waits_on_it_each_time() -> None:
    database = Database()
    writer = OutcomeWriter(database.write, wait=3600, gather=3600, waiters=2)  # timers that never fire in time
    for round_ in range(2):
        first, second = writer.submit([sent(2 * round_ + 1)]), writer.submit([sent(2 * round_ + 2)])
        waiting = asyncio.ensure_future(_wait(first))
        await asyncio.sleep(0.05)
        assert len(database.commits) == round_  # one worker waits; the other may yet hand over an outcome
        await asyncio.wait_for(asyncio.gather(waiting, _wait(second)), timeout=5)
    assert database.commits == [[1, 2], [3, 4]]


async def test_an_outcome_that_comes_alone_is_committed_at_once_when_asked_for() -> None:
    database = Database()
    writer = OutcomeWriter(database.write, wait=3600, gather=3600, waiters=4)
    await asyncio.wait_for(_wait(writer.submit([sent(1)])), timeout=5)
    assert database.commits == [[1]]


async def test_enough_outcomes_queued_start_a_commit_that_nobody_asked_for() -> None:
    database = Database()
    writer = OutcomeWriter(database.write, most=3, wait=3600)
    writer.submit([sent(1), sent(2)])
    await asyncio.sleep(0.05)
    assert database.commits == []  # two of three: they wait for someone to ask, or for `wait`
    writer.submit([sent(3)])
    for _ in range(100):
        if database.commits:
            break
        await asyncio.sleep(0.01)
    assert database.commits == [[1, 2, 3]]


async def test_outcomes_handed_over_while_a_write_fails_fail_too_without_being_asked() -> None:
    database = Database(fail_at=1)
    writer = OutcomeWriter(database.write, wait=3600)
    first = asyncio.ensure_future(_wait(writer.submit([sent(1)])))
    await database.writing.wait()  # the failing commit is under way
    second = writer.submit([sent(2)])  # nobody awaits it
    with pytest.raises(DatabaseUnavailable):
        await first
    await asyncio.sleep(0.05)
    assert second.done()  # failed already: a worker that looks finds out at once
    with pytest.raises(DatabaseUnavailable):
        await second
    assert database.commits == [[]]


async def _wait(written: object) -> None:
    await written  # type: ignore[misc]
