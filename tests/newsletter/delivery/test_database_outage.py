"""The database going away mid-send (SQLite locked past its busy timeout, PostgreSQL connections cut and
refused): the send waits for it with backoff, and when it does not come back in time it stops with one
line that says what to do, and the rerun repeats at most one message per connection."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, make_url, text

from newsletter.db.engine import connect
from newsletter.db.migrate import migrate
from newsletter.delivery.owners import Owner
from newsletter.delivery.sender import Policy
from newsletter.errors import NewsletterError
from tests.newsletter.delivery.sends import Send, make_send, readers
from tests.newsletter.smtp_server import Received, SmtpServer

pytestmark = pytest.mark.anyio
BUSY_MS = 50  # the sender's SQLite busy timeout here: a lock held longer than this is an error to it


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    return tmp_path / "newsletter.db"


@pytest.fixture
def impatient_engine(sqlite_file: Path) -> Iterator[Engine]:
    """A SQLite engine that gives up on a lock after 50 ms instead of 10 s, so a test can outlast it."""
    engine = connect(f"sqlite:///{sqlite_file}")

    def short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_MS}")

    event.listen(engine, "connect", short_busy_timeout)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_send(tmp_path: Path, impatient_engine: Engine, sqlite_file: Path) -> Send:
    return make_send(tmp_path, impatient_engine, f"sqlite:///{sqlite_file}", readers(12))


class WriteLock:
    """Another process's write transaction on the SQLite file, taken and let go when the test says."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None, timeout=30)

    def take(self) -> None:
        self._connection.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self._connection.in_transaction:
            self._connection.execute("ROLLBACK")

    def close(self) -> None:
        self.release()
        self._connection.close()


async def test_a_sqlite_lock_held_past_the_busy_timeout_mid_send_is_waited_out_and_nobody_gets_two_copies(
        sqlite_send: Send, server: SmtpServer, sqlite_file: Path) -> None:
    lock = WriteLock(sqlite_file)

    def lock_for_a_second(_: Received) -> None:
        if len(server.received) == 4:
            lock.take()
            asyncio.get_running_loop().call_later(1.0, lock.release)

    server.on_received = lock_for_a_second
    try:
        await sqlite_send.run(server, Policy(workers=2, batch_size=4))
    finally:
        lock.close()
    assert server.recipients() == dict.fromkeys(sqlite_send.addresses, 1)
    assert sqlite_send.counts() == {"sent": 12}


async def test_a_lock_held_longer_than_the_send_waits_stops_it_with_one_line_and_the_rerun_repeats_little(
        sqlite_send: Send, server: SmtpServer, sqlite_file: Path) -> None:
    lock = WriteLock(sqlite_file)

    def lock_for_good(_: Received) -> None:
        if len(server.received) == 4:
            lock.take()

    server.on_received = lock_for_good
    # A lease as short as the patience: the heartbeat cannot renew it while the database is locked.
    policy = Policy(workers=2, batch_size=4, lease_seconds=1, database_patience=1)
    try:
        with pytest.raises(NewsletterError) as stopped:
            await sqlite_send.run(server, policy)
    finally:
        lock.close()
    message = str(stopped.value)
    assert message.startswith("the database did not answer for 1 s while ")
    assert "(database is locked)" in message
    assert "\n" not in message
    assert "UPDATE" not in message
    assert "SELECT" not in message
    before = len(server.received)

    server.on_received = None
    # The rerun is another process, as it would be: the stopped one's rows are free once its lease lapsed.
    await sqlite_send.run(server, Policy(workers=2, batch_size=4), owner=Owner("rerun.example", 1, ""))

    assert sorted(server.recipients()) == sorted(sqlite_send.addresses)
    assert sqlite_send.counts() == {"sent": 12}
    # What the stopped run had accepted but could not record is sent again: at most one per connection.
    assert len(server.received) - 12 <= 2
    assert before <= 5  # the fourth, and at most one more: each message waits for the outcome before it


@pytest.fixture
def role_url(postgres_url: str) -> Iterator[tuple[str, Engine]]:
    """A login role of its own for the sender (the test can refuse and cut its connections alone), with an
    engine of the test's as the administrator."""
    admin = create_engine(postgres_url)
    role = "sender_" + secrets.token_hex(4)
    options = make_url(postgres_url).query["options"]
    schema = (options if isinstance(options, str) else options[0]).rpartition("=")[2]
    migrate_engine = connect(postgres_url)
    migrate(migrate_engine)
    migrate_engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
        conn.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO {role}"))
        conn.execute(text(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"))
    try:
        yield make_url(postgres_url).set(username=role).render_as_string(hide_password=False), admin
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"ALTER ROLE {role} CONNECTION LIMIT -1"))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role"),
                         {"role": role})
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        admin.dispose()


@pytest.mark.postgres
async def test_postgresql_connections_cut_and_refused_mid_send_are_waited_out_and_nobody_gets_two_copies(
        tmp_path: Path, role_url: tuple[str, Engine], server: SmtpServer) -> None:
    url, admin = role_url
    role = make_url(url).username
    engine = connect(url)
    send = make_send(tmp_path, engine, url, readers(12))

    def restart(_: Received) -> None:
        if len(server.received) != 4:
            return
        with admin.begin() as conn:  # as a restarting server does: every connection cut, new ones refused
            conn.execute(text(f"ALTER ROLE {role} CONNECTION LIMIT 0"))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role"),
                         {"role": role})

        def back() -> None:
            with admin.begin() as conn:
                conn.execute(text(f"ALTER ROLE {role} CONNECTION LIMIT -1"))

        asyncio.get_running_loop().call_later(1.0, back)

    server.on_received = restart
    try:
        await send.run(server, Policy(workers=2, batch_size=4))
        assert sorted(server.recipients()) == sorted(send.addresses)
        assert send.counts() == {"sent": 12}
    finally:
        engine.dispose()
    # A message accepted just as its connection was cut may go out twice: at most one per connection.
    assert len(server.received) - 12 <= 2
