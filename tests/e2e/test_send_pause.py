"""Pause and resume with two `newsletter send` processes sharing one issue on PostgreSQL: the pause, given
from a third process, stops both; the rows not sent wait; resume finishes the send and everyone has one
copy. (How soon the last message leaves after the pause is measured by bench/pause_reach.py.)"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.e2e.send_site import WEEK, Site, make_site
from tests.newsletter.smtp_server import Received, SmtpServer, serve_in_thread

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
SUBSCRIBERS = 300
WAIT = 120.0


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with serve_in_thread() as server:
        yield server


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def paused_send(site: Site, server: SmtpServer, after: int) -> tuple[float, list[float], list[tuple[int, str]]]:
    """Two senders, paused by a third process once `after` messages are in: when the pause was recorded
    (the state's changed_at), when each message arrived (both wall-clock seconds), and each sender's exit
    code and last line."""
    arrivals: list[float] = []
    lock = threading.Lock()

    def on_received(_: Received) -> None:
        with lock:
            arrivals.append(time.time())

    server.on_received = on_received
    senders = [site.start("send", "--week", WEEK) for _ in range(2)]
    wait_until(lambda: len(server.received) >= after, f"{after} messages")
    paused = site.run("issue", "pause", "--week", WEEK, "--reason", "a broken link")
    assert paused.returncode == 0, paused.stderr
    shown = json.loads(site.run("issue", "show", "--week", WEEK, "--json").stdout)
    paused_at = datetime.fromisoformat(shown["changed_at"]).timestamp()
    ends = [(sender.wait(timeout=WAIT), sender.communicate()[1].strip().splitlines()[-1]) for sender in senders]
    server.on_received = None
    return paused_at, arrivals, ends


def test_a_pause_reaches_both_senders_and_resume_finishes_with_one_copy_each(
        tmp_path: Path, postgres_url: str, server: SmtpServer) -> None:
    site = make_site(tmp_path, postgres_url, server.port, SUBSCRIBERS,
                     delivery="batch_size = 10\nlease_seconds = 10\nlinger_seconds = 0",
                     smtp="connections = 2\nrate_per_second = 30")  # 10 s in all: time to pause it
    try:
        _, arrivals, ends = paused_send(site, server, after=60)
        for code, last in ends:
            assert code == 1
            assert last.startswith("error: 2026-W47 was paused by admin"), last
            assert last.endswith("a broken link; `newsletter issue resume` continues it")
        status = site.status()
        assert status["state"] == "paused"
        assert status["sent"] == len(server.received) == len(arrivals) < SUBSCRIBERS
        assert status["pending"] == SUBSCRIBERS - status["sent"]
        assert status["failed"] == status["skipped"] == status["sending"] == 0

        code_while_paused = site.run("send", "--week", WEEK)
        assert code_while_paused.returncode == 1
        assert "`newsletter issue resume` continues it" in code_while_paused.stderr
        assert len(server.received) == status["sent"]

        assert site.run("issue", "resume", "--week", WEEK).returncode == 0
        senders = [site.start("send", "--week", WEEK, "--json") for _ in range(2)]
        outputs = [sender.communicate(timeout=WAIT) for sender in senders]
        assert [sender.returncode for sender in senders] == [0, 0], outputs
        assert dict(server.recipients()) == dict.fromkeys(site.addresses, 1)
        final = site.status()
        assert (final["state"], final["sent"]) == ("sent", SUBSCRIBERS)
        history = json.loads(site.run("issue", "show", "--week", WEEK, "--json").stdout)["history"]
        assert [event["state"] for event in history] == ["sending", "paused", "sending", "sent"]
    finally:
        site.engine.dispose()
