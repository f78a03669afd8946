"""`smtp.rate_per_second` is the rate of the whole send: two `newsletter send` processes sharing one issue
share the rate too, measured at a real SMTP server."""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.send_site import WEEK, make_site
from tests.newsletter.smtp_server import Received, SmtpServer, serve_in_thread

pytestmark = pytest.mark.slow
RATE = 5.0
WINDOW = 4.0  # seconds
WAIT = 120.0


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with serve_in_thread() as server:
        yield server


def busiest_window(arrivals: list[float], seconds: float) -> int:
    """The most arrivals in any `seconds`-long window."""
    return max(bisect.bisect_right(arrivals, start + seconds) - index for index, start in enumerate(arrivals))


def test_two_senders_of_one_issue_keep_to_the_configured_rate_together(
        tmp_path: Path, server: SmtpServer) -> None:
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'newsletter.db'}", server.port, 40,
                     delivery="batch_size = 5\nlease_seconds = 10\nlinger_seconds = 0",
                     smtp=f"connections = 1\nrate_per_second = {RATE}")
    arrivals: list[float] = []
    lock = threading.Lock()

    def on_received(_: Received) -> None:
        with lock:
            arrivals.append(time.monotonic())

    server.on_received = on_received
    try:
        senders = [site.start("send", "--week", WEEK) for _ in range(2)]
        outputs = [sender.communicate(timeout=WAIT) for sender in senders]
    finally:
        site.engine.dispose()

    assert [sender.returncode for sender in senders] == [0, 0], outputs
    assert sorted(server.recipients()) == sorted(site.addresses)
    # At 5/s in all, a 4-second window holds about 20 messages (21 at its edges); two senders each at the
    # full rate would put about 40 in it. The bound leaves room for the moment they find each other.
    busiest = busiest_window(sorted(arrivals), WINDOW)
    assert busiest <= 27, f"{busiest} messages in {WINDOW:g} s at {RATE:g}/s configured"
