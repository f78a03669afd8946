"""The randomised crash test: a 5,000-recipient `newsletter send` killed with SIGKILL again and again.

Twenty kill points are drawn with a fixed seed, uniformly over the send's messages, each of one of three
kinds: in the server's hands before it answers (it has the message, the sender has not heard "250"),
just after the server's 250 was written (the sender may or may not have recorded it), and from outside at
whatever the sender is doing then. Before them come kills during issue creation. After every kill the next
run carries on at once: the dead run's rows are taken over (same host, its process is gone) although
their lease has five minutes left. Every kill may leave only the messages accepted but not yet recorded,
at most one per connection; at the end nobody is missing and every repeat is one of those.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, text

from newsletter.delivery.tables import DeliveryRow, DeliveryState
from newsletter.issues.tables import IssueRow
from tests.e2e.send_site import WEEK, Site, make_site
from tests.newsletter.smtp_server import Received, SmtpServer, serve_in_thread
from tests.processes import wait_for

pytestmark = pytest.mark.slow
SEED = 20_261_123
SUBSCRIBERS = 5_000
KILLS = 20
CONNECTIONS = 3
WAIT = 120.0
KINDS = ("server-has-it", "after-250", "from-outside")


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with serve_in_thread() as server:
        yield server


@dataclass
class Kill:
    """One SIGKILL: where it landed, and what it left accepted but not recorded."""

    kind: str
    at_message: int
    unrecorded: set[str]


def start(site: Site) -> subprocess.Popen[str]:
    return site.start("send", "--week", WEEK, "--json")


def reap(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=WAIT)


def kill_at_message(server: SmtpServer, site: Site, message: int, kind: str) -> None:
    """Start a sender and SIGKILL it once the server has taken `message` messages in all."""
    victim: list[subprocess.Popen[str]] = []
    dead = threading.Event()

    def on_received(_: Received) -> None:
        if not victim or dead.is_set() or len(server.received) < message or kind == "from-outside":
            return
        dead.set()
        if kind == "server-has-it":
            reap(victim[0])
        else:  # the 250 is written once this hook returns; kill on the server loop's next turn
            asyncio.get_running_loop().call_soon(reap, victim[0])

    server.on_received = on_received
    victim.append(start(site))
    if kind == "from-outside":
        wait_for(lambda: len(server.received) >= message, f"message {message}", WAIT)
        reap(victim[0])
    else:
        wait_for(lambda: victim[0].returncode is not None, f"the kill at message {message}", WAIT)
    server.on_received = None


def kill_during_issue_creation(site: Site, database: Path) -> None:
    """Hold the database's write lock, start a sender, and SIGKILL it while its issue-creating
    transaction waits for the lock (the first write a send makes)."""
    lock = sqlite3.connect(database, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")
        victim = start(site)
        # SQLite's busy handler sleeps between tries; nothing else in a starting sender sleeps.
        wchan = Path(f"/proc/{victim.pid}/wchan")
        wait_for(lambda: wchan.exists() and "nanosleep" in wchan.read_text(), "the sender to wait for the lock", WAIT)
        reap(victim)
    finally:
        lock.execute("ROLLBACK")
        lock.close()


def unrecorded(server: SmtpServer, site: Site, since: int) -> set[str]:
    """Addresses of the messages the server took from message `since` on that the ledger does not say
    are sent: what the run that started then left accepted but not recorded."""
    by_id = {s.id: s.address for s in site.subscribers}
    with site.engine.connect() as conn:
        sent = conn.execute(select(DeliveryRow.subscriber_id).where(DeliveryRow.state == DeliveryState.SENT))
        recorded = {by_id[subscriber] for (subscriber,) in sent}
    return {address for message in server.received[since:] for address in message.recipients} - recorded


def test_a_send_killed_at_random_points_loses_nobody_and_repeats_at_most_one_message_per_connection_a_kill(
        tmp_path: Path, server: SmtpServer, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "newsletter.db"
    site = make_site(tmp_path, f"sqlite:///{database}", server.port, SUBSCRIBERS,
                     delivery="batch_size = 100\nlease_seconds = 300\nlinger_seconds = 0",
                     smtp=f"connections = {CONNECTIONS}")
    draw = random.Random(SEED)
    points = sorted(draw.sample(range(1, SUBSCRIBERS), KILLS))
    kinds = [draw.choice(KINDS) for _ in points]
    kills: list[Kill] = []
    try:
        for _ in range(2):
            kill_during_issue_creation(site, database)
            with site.engine.connect() as conn:
                assert conn.execute(select(IssueRow.id)).all() == [], "the killed creation left an issue"
        for point, kind in zip(points, kinds, strict=True):
            since = len(server.received)
            kill_at_message(server, site, point, kind)
            # The dead sender's connections close; the server may still take what it had already read.
            wait_for(lambda: server.open_connections == 0, "the dead sender's connections to close", WAIT)
            kills.append(Kill(kind, len(server.received), unrecorded(server, site, since)))
        last = site.run("send", "--week", WEEK, "--json", timeout=WAIT * 3)
    finally:
        site.engine.dispose()

    assert last.returncode == 0, last.stderr
    totals = json.loads(last.stdout)["totals"]
    assert totals == {"pending": 0, "sending": 0, "sent": SUBSCRIBERS, "deferred": 0, "failed": 0, "skipped": 0,
                      "bounced": 0, "complained": 0}
    copies = server.recipients()
    assert sorted(copies) == sorted(site.addresses), "someone got nothing, or a stranger got mail"
    repeated = Counter({address: n - 1 for address, n in copies.items() if n > 1})
    with capsys.disabled():
        print(f"\n{len(kills)} kills at random points (seed {SEED}) and 2 during issue creation: "
              f"{len(server.received):,} messages for {SUBSCRIBERS:,} subscribers, "
              f"{sum(repeated.values())} repeated; unrecorded at each kill: {[len(k.unrecorded) for k in kills]}")
    for kill in kills:
        assert len(kill.unrecorded) <= CONNECTIONS, kill
    assert set(repeated) <= set().union(*(kill.unrecorded for kill in kills))
    assert sum(repeated.values()) <= sum(len(kill.unrecorded) for kill in kills) <= CONNECTIONS * KILLS
    with site.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM issues")).scalar_one() == 1


@pytest.mark.postgres
def test_a_send_killed_while_its_issue_is_half_created_on_postgresql_leaves_nothing_and_the_rerun_sends_to_all(
        tmp_path: Path, server: SmtpServer, postgres_url: str) -> None:
    site = make_site(tmp_path, postgres_url, server.port, 50, delivery="linger_seconds = 0",
                     smtp=f"connections = {CONNECTIONS}")
    admin = create_engine(postgres_url)
    try:
        with admin.connect() as locker:
            # The issue and its excerpts go in, then the recipient snapshot waits for this lock.
            locker.execute(text("LOCK TABLE deliveries IN SHARE MODE"))
            me = locker.execute(text("SELECT pg_backend_pid()")).scalar_one()
            victim = start(site)
            wait_for(lambda: _blocked_by(admin, me) == ["INSERT INTO deliveries"],
                     "the sender to wait in the middle of creating its issue", WAIT)
            reap(victim)
            locker.rollback()
        with site.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM issues")).scalar_one() == 0
        last = site.run("send", "--week", WEEK, "--json", timeout=WAIT)
        assert last.returncode == 0, last.stderr
        assert json.loads(last.stdout)["totals"]["sent"] == 50
        assert dict(server.recipients()) == dict.fromkeys(site.addresses, 1)
        with site.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM issues")).scalar_one() == 1
    finally:
        admin.dispose()
        site.engine.dispose()


def _blocked_by(admin: Engine, pid: int) -> list[str]:
    """The start of each query the backend `pid` holds up (a new transaction each time: PostgreSQL shows
    one transaction the same activity snapshot throughout)."""
    with admin.connect() as conn:
        held_up = text("SELECT left(query, 22) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
        return list(conn.execute(held_up, {"pid": pid}).scalars())
