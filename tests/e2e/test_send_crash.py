"""`newsletter send` as a real process against a real SMTP server: killed mid-send, shared, and told of unsubscribes.

A sender is killed with SIGKILL at several points, the server's "250" for a message it has already taken
included; the next run takes the dead run's rows at once (its process is gone from this host) and finishes.
Every subscriber then has the issue at least once, and the copies beyond one are at most the messages the
dead run had accepted but not yet recorded: one per connection, each with the same Message-ID as the first
copy. On PostgreSQL two senders share one send, and one of them dying leaves its rows to the other.
(tests/e2e/test_send_kills.py kills a 5,000-recipient send at twenty random points.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsletter.delivery.tables import DeliveryRow
from tests.e2e.send_site import WEEK, Site, make_site, message_ids
from tests.newsletter.smtp_server import Received, SmtpServer, serve_in_thread

pytestmark = pytest.mark.slow
BATCH = 10
WORKERS = 2
IN_FLIGHT = WORKERS  # the most messages a killed sender can have had accepted and not yet recorded
LEASE = 10  # seconds; the shortest lease the config allows
# Long enough for a run to wait out the lease of a sender that died on another host (here: never needed).
LINGER = 3 * LEASE
SMTP = f"connections = {WORKERS}\ntimeout = 10"
SUBSCRIBERS = 60
WAIT = 60.0  # seconds any one step may take before the test gives up

Start = Callable[[], "subprocess.Popen[str]"]
KillPoint = Callable[[SmtpServer, Start], "subprocess.Popen[str]"]


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with serve_in_thread() as server:
        yield server


Sites = Callable[[str, int, float], Site]


@pytest.fixture
def sites(tmp_path: Path, server: SmtpServer) -> Iterator[Sites]:
    """Makes a site on a database URL with that many subscribers and that linger, sending to `server`."""
    made: list[Site] = []

    def make(database_url: str, subscribers: int, linger: float) -> Site:
        delivery = (f"batch_size = {BATCH}\nlease_seconds = {LEASE}\nlinger_seconds = {linger}\n"
                    "retry_seconds = 1")
        site = make_site(tmp_path, database_url, server.port, subscribers, delivery=delivery, smtp=SMTP)
        made.append(site)
        return site

    yield make
    for site in made:
        site.engine.dispose()


def _send(site: Site) -> Start:
    return lambda: site.start("send", "--week", WEEK, "--json")


def _kill(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=WAIT)  # reaps it and closes its pipes


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def kill_before_any_message(server: SmtpServer, start: Start) -> subprocess.Popen[str]:
    """Every worker holds a claimed batch and waits on its first RCPT: nothing has been accepted."""
    server.faults.stall_rcpt.update(f"reader{n}@example.net" for n in range(SUBSCRIBERS))
    process = start()
    _wait_until(lambda: server.stalled == WORKERS, "both workers to wait on the server")
    _kill(process)
    server.faults.stall_rcpt.clear()
    assert server.received == []
    return process


def kill_while_the_server_confirms(message: int) -> KillPoint:
    """Killed once the server has taken message number `message` and before the sender hears "250"."""

    def kill(server: SmtpServer, start: Start) -> subprocess.Popen[str]:
        victim: list[subprocess.Popen[str]] = []
        killed = threading.Event()

        def on_received(_: Received) -> None:
            if victim and not killed.is_set() and len(server.received) >= message:
                _kill(victim[0])
                killed.set()

        server.on_received = on_received
        victim.append(start())
        assert killed.wait(WAIT), f"the sender never got to message {message}"
        server.on_received = None
        return victim[0]

    return kill


def kill_after(messages: int) -> KillPoint:
    """Killed from outside once the server has taken `messages` messages, wherever the sender then is."""

    def kill(server: SmtpServer, start: Start) -> subprocess.Popen[str]:
        process = start()
        _wait_until(lambda: len(server.received) >= messages, f"{messages} messages")
        _kill(process)
        return process

    return kill


def _copies_report(server: SmtpServer, site: Site, capsys: pytest.CaptureFixture[str], label: str) -> int:
    """Check every subscriber got the issue, each with one Message-ID; the number of extra copies."""
    copies = server.recipients()
    assert sorted(copies) == sorted(site.addresses), "someone got nothing, or a stranger got mail"
    duplicates = sum(n - 1 for n in copies.values())
    with capsys.disabled():
        print(f"\n{label}: {len(server.received)} messages for {len(site.addresses)} subscribers, "
              f"{duplicates} duplicate(s) (bound: one per connection, {IN_FLIGHT})")
    for address, count in copies.items():
        if count > 1:
            again = [m.data for m in server.received if address in m.recipients]
            assert len(message_ids(again)) == 1, f"the copies for one address differ in Message-ID: {again}"
    # One Message-ID per subscriber, whichever run sent it.
    assert len(message_ids([m.data for m in server.received])) == len(site.addresses)
    return duplicates


@pytest.mark.parametrize(
    ("kill", "fewest_duplicates"),
    [
        (kill_before_any_message, 0),
        (kill_while_the_server_confirms(1), 1),
        (kill_while_the_server_confirms(35), 1),
        (kill_after(25), 0),
    ],
    ids=["before-any-message", "server-took-message-1-sender-not-told", "server-took-message-35-sender-not-told",
         "after-25-messages"],
)
def test_send_killed_mid_send_finishes_on_the_next_run_repeating_at_most_the_in_flight_messages(
    kill: KillPoint, fewest_duplicates: int, sites: Sites, sqlite_url: str,
    server: SmtpServer, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest,
) -> None:
    site = sites(sqlite_url, SUBSCRIBERS, LINGER)

    killed = kill(server, _send(site))

    assert killed.returncode == -signal.SIGKILL
    after_crash = site.status()
    assert after_crash["sent"] < SUBSCRIBERS
    assert after_crash["sending"] >= 1, "the dead run held no claimed rows; the kill came too late to test"
    if kill is kill_before_any_message:
        assert (after_crash["sent"], after_crash["sending"]) == (0, BATCH * WORKERS)  # every claimed row

    resumed = site.run("send", "--week", WEEK, "--json")
    assert resumed.returncode == 0, resumed.stderr
    totals = json.loads(resumed.stdout)["totals"]
    assert totals == {"pending": 0, "sending": 0, "sent": SUBSCRIBERS, "deferred": 0, "failed": 0, "skipped": 0,
                      "bounced": 0, "complained": 0}
    duplicates = _copies_report(server, site, capsys, f"killed {request.node.callspec.id}")
    assert fewest_duplicates <= duplicates <= IN_FLIGHT


def test_an_unsubscribe_mid_send_stops_that_subscribers_pending_message(
    sites: Sites, database_url: str, server: SmtpServer,
) -> None:
    site = sites(database_url, SUBSCRIBERS, 0)  # nothing dies here: no run needs to wait for a lease
    leaving = site.subscribers[-15:]  # in batches no worker has claimed while message 10 is being taken
    store = site.side().store
    unsubscribed = threading.Event()

    def on_received(_: Received) -> None:
        if len(server.received) == BATCH:
            for person in leaving:
                store.unsubscribe(person.id, person.nonce)
            unsubscribed.set()

    server.on_received = on_received
    done = site.run("send", "--week", WEEK, "--json")

    assert done.returncode == 0, done.stderr
    assert unsubscribed.is_set()
    assert json.loads(done.stdout)["this_run"] == {"sent": 45, "failed": 0, "skipped": 15, "deferred": 0}
    status = site.status()
    assert (status["sent"], status["skipped"], status["total"]) == (45, 15, SUBSCRIBERS)
    staying = {person.address: 1 for person in site.subscribers[:-15]}
    assert dict(server.recipients()) == staying


@pytest.mark.postgres
def test_two_senders_on_postgresql_share_one_send_and_everyone_gets_one_copy(
    sites: Sites, postgres_url: str, server: SmtpServer,
) -> None:
    subscribers = 400
    site = sites(postgres_url, subscribers, 0)
    # A server that takes 3 ms a message keeps the send going long enough for both senders to join in.
    server.on_received = lambda _: time.sleep(0.003)

    first, second = _send(site)(), _send(site)()
    outputs = [process.communicate(timeout=WAIT) for process in (first, second)]

    assert [first.returncode, second.returncode] == [0, 0], [err for _, err in outputs]
    shares = [json.loads(out)["this_run"]["sent"] for out, _ in outputs]
    assert sum(shares) == subscribers
    assert min(shares) > 0, f"one sender did all the work ({shares}): they did not share the send"
    assert dict(server.recipients()) == dict.fromkeys(site.addresses, 1)
    assert site.status()["sent"] == subscribers


@pytest.mark.postgres
def test_a_sender_killed_on_postgresql_leaves_its_rows_to_the_other_one(
    sites: Sites, postgres_url: str, server: SmtpServer, capsys: pytest.CaptureFixture[str],
) -> None:
    subscribers = 400
    site = sites(postgres_url, subscribers, LINGER)
    server.on_received = lambda _: time.sleep(0.005)
    victim = _send(site)()
    _wait_until(lambda: len(server.received) >= BATCH, "the first sender to be under way")
    survivor = _send(site)()
    _wait_until(lambda: server.connections > WORKERS, "the second sender to connect")

    killed = kill_while_the_server_confirms(len(server.received) + 1)(server, lambda: victim)
    out, err = survivor.communicate(timeout=LEASE + WAIT)

    assert killed.returncode == -signal.SIGKILL
    assert survivor.returncode == 0, err
    assert json.loads(out)["totals"]["sent"] == subscribers
    with site.engine.connect() as conn:
        retried = conn.execute(select(func.count()).select_from(DeliveryRow).where(DeliveryRow.attempts > 1))
        assert retried.scalar_one() >= 1, "no row the dead sender held was taken over"
    duplicates = _copies_report(server, site, capsys, "one of two senders killed")
    assert duplicates <= IN_FLIGHT
