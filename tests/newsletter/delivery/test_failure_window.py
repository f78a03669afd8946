"""The automatic pause's window: it judges only a full window, and only a share above the rate."""

from __future__ import annotations

import pytest

from newsletter.delivery.failure_window import FailureWindow
from newsletter.delivery.tables import DeliveryState

SENT, FAILED, DEFERRED = DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.DEFERRED


def feed(window: FailureWindow, *states: DeliveryState) -> list[str | None]:
    return [window.add(state) for state in states]


def test_a_window_not_yet_full_never_pauses_however_bad() -> None:
    assert feed(FailureWindow(10, 0.1), *[FAILED] * 9) == [None] * 9


@pytest.mark.parametrize(("kind", "said"), [(FAILED, "refused for good"), (DEFERRED, "deferred")],
                         ids=["refusals", "deferrals"])
def test_more_than_the_rate_of_either_kind_pauses_and_says_which(kind: DeliveryState, said: str) -> None:
    window = FailureWindow(10, 0.2)
    assert feed(window, *[SENT] * 8, kind, kind) == [None] * 10  # 20%: not more than the rate
    assert window.add(kind) == (f"30% of the last 10 messages were {said} (more than [delivery] "
                                "pause_on_failure_rate = 0.2)")


def test_old_outcomes_leave_the_window() -> None:
    window = FailureWindow(4, 0.25)
    assert feed(window, FAILED, SENT, SENT, SENT) == [None] * 4
    assert feed(window, SENT, SENT, SENT, SENT) == [None] * 4  # the refusal has left: 0%
    assert feed(window, FAILED, DEFERRED) == [None, None]      # one of each: 25% each, not more
    assert window.add(FAILED) is not None
