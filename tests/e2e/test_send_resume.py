"""`newsletter send` never ends quietly with work left: a rerun right after a crash takes the dead run's rows
at once, rows a live sender holds are named (host/pid, until when) with a non-zero exit, and SIGTERM or
Ctrl-C drain the send the way they drain `newsletter run`."""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.send_site import WEEK, Site, make_site
from tests.e2e.test_send_crash import kill_after
from tests.newsletter.smtp_server import SmtpServer, serve_in_thread
from tests.processes import wait_for

pytestmark = pytest.mark.slow
WAIT = 60.0


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with serve_in_thread() as server:
        yield server


Sites = Callable[..., Site]


@pytest.fixture
def sites(tmp_path: Path, server: SmtpServer) -> Iterator[Sites]:
    """A site on SQLite sending to `server`; keyword arguments are `[delivery]` and `[smtp]` lines."""
    made: list[Site] = []

    def make(subscribers: int, *, delivery: str = "", smtp: str = "") -> Site:
        site = make_site(tmp_path, f"sqlite:///{tmp_path / 'newsletter.db'}", server.port, subscribers,
                         delivery=delivery, smtp=smtp)
        made.append(site)
        return site

    yield make
    for site in made:
        site.engine.dispose()


def test_a_rerun_right_after_a_kill_takes_the_dead_runs_rows_at_once_and_finishes(
        sites: Sites, server: SmtpServer) -> None:
    # A five-minute lease, and a rerun that waits for nothing: only knowing the dead run is dead helps.
    site = sites(60, delivery="batch_size = 10\nlease_seconds = 300\nlinger_seconds = 0",
                 smtp="connections = 2")
    killed = kill_after(15)(server, lambda: site.start("send", "--week", WEEK, "--json"))
    assert killed.returncode == -signal.SIGKILL
    assert site.status()["sending"] > 0

    rerun = site.run("send", "--week", WEEK, "--json")

    assert rerun.returncode == 0, rerun.stderr
    totals = json.loads(rerun.stdout)["totals"]
    assert totals == {"pending": 0, "sending": 0, "sent": 60, "deferred": 0, "failed": 0, "skipped": 0,
                      "bounced": 0, "complained": 0}
    assert sorted(server.recipients()) == sorted(site.addresses)


def test_a_send_that_finds_every_row_held_by_a_live_sender_names_it_and_exits_non_zero(
        sites: Sites, server: SmtpServer) -> None:
    # One message a second: the first sender holds all thirty rows for thirty seconds, renewing its lease;
    # the second waits a lease (ten seconds) for them to come free, then says who holds them.
    site = sites(30, delivery="batch_size = 30\nlease_seconds = 10\nlinger_seconds = 0",
                 smtp="connections = 1\nrate_per_second = 1")
    first = site.start("send", "--week", WEEK)
    try:
        wait_for(lambda: len(server.received) >= 1, "the first sender to be under way", WAIT)
        second = site.run("send", "--week", WEEK)
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=WAIT)

    assert second.returncode == 1, second.stdout + second.stderr
    said = second.stdout + second.stderr
    assert re.search(rf"\b\d+ row\(s\) held by [^ ]+/{first.pid}\b", said), said
    assert "until" in said
    assert "@example.net" not in said


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_send_finishes_the_messages_in_flight_hands_back_the_rest_and_exits_0(
        sites: Sites, server: SmtpServer, sig: signal.Signals) -> None:
    site = sites(30, delivery="batch_size = 10\nlease_seconds = 300",
                 smtp="connections = 2\nrate_per_second = 5")
    sender = site.start("send", "--week", WEEK)
    wait_for(lambda: len(server.received) >= 3, "three messages", WAIT)
    os.kill(sender.pid, sig)
    out, err = sender.communicate(timeout=WAIT)

    assert sender.returncode == 0, err
    assert "stopped" in out + err
    status = site.status()
    assert status["sending"] == 0
    assert status["sent"] == len(server.received)
    assert status["pending"] == 30 - status["sent"]
    assert set(server.recipients().values()) == {1}
