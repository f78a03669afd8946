"""The rate shared by the processes of one send."""

from __future__ import annotations

import pytest

from newsletter.delivery.transports.pacing import SendPacer


class FrozenClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_process_that_shares_the_send_with_another_takes_half_the_rate() -> None:
    pacer = SendPacer(10, clock=FrozenClock(100.0))
    pacer.share(2)
    assert [pacer.reserve() for _ in range(3)] == pytest.approx([0.0, 0.2, 0.4])


def test_alone_again_it_takes_the_whole_rate() -> None:
    pacer = SendPacer(10, clock=FrozenClock(100.0))
    pacer.share(3)
    pacer.share(1)
    assert pacer.interval == pytest.approx(0.1)
