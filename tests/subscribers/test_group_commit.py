"""Group commit: requests that arrive together share one write, each gets its own answer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence

import pytest

from newsletter.db.engine import connect
from subscribers.blocking import Blocking
from subscribers.group_commit import GroupCommit

pytestmark = pytest.mark.anyio


@pytest.fixture
def blocking(sqlite_url: str) -> Iterator[Blocking]:
    engine = connect(sqlite_url)
    yield Blocking(engine)
    engine.dispose()


class Recorder:
    def __init__(self, fail_on: str = "") -> None:
        self.batches: list[list[str]] = []
        self.fail_on = fail_on

    def write(self, items: Sequence[str]) -> list[str]:
        self.batches.append(list(items))
        if self.fail_on in items:
            raise ValueError(f"cannot write {self.fail_on}")
        return [item.upper() for item in items]


async def test_requests_waiting_together_are_written_in_one_batch(blocking: Blocking) -> None:
    recorder = Recorder()
    group: GroupCommit[str, str] = GroupCommit(recorder.write, blocking, max_batch=3)
    results = await asyncio.gather(*(group.submit(word) for word in ["a", "b", "c", "d", "e"]))
    assert results == ["A", "B", "C", "D", "E"]
    assert recorder.batches == [["a", "b", "c"], ["d", "e"]]


async def test_a_lone_request_is_written_at_once(blocking: Blocking) -> None:
    recorder = Recorder()
    group: GroupCommit[str, str] = GroupCommit(recorder.write, blocking)
    assert await group.submit("a") == "A"
    assert await group.submit("b") == "B"
    assert recorder.batches == [["a"], ["b"]]


async def test_a_failed_batch_fails_its_requests_and_the_next_batch_still_runs(blocking: Blocking) -> None:
    recorder = Recorder(fail_on="b")
    group: GroupCommit[str, str] = GroupCommit(recorder.write, blocking, max_batch=2)
    results = await asyncio.gather(*(group.submit(word) for word in ["a", "b", "c", "d"]),
                                   return_exceptions=True)
    assert [str(r) for r in results] == ["cannot write b", "cannot write b", "C", "D"]
