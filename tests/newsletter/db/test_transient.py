"""What a send waits out: the driver's transient errors, and the subscriber store's, which drops the
driver's words (they can quote parameters) but says whether they were transient."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from newsletter.config.settings import load
from newsletter.db.engine import connect
from newsletter.db.migrate import migrate
from newsletter.db.transient import is_transient, patiently
from newsletter.errors import DatabaseUnavailable
from subscribers.addresses import parse
from subscribers.errors import StoreError
from subscribers.side import Subscribers
from subscribers.states import Status
from subscribers.store import Consent
from tests.conftest import Clock, write_config

pytestmark = pytest.mark.anyio


async def no_sleep(_: float) -> None:
    return None


def test_a_locked_subscriber_database_is_a_store_error_that_says_it_is_transient(tmp_path: Path,
                                                                                    clock: Clock) -> None:
    path = tmp_path / "locked.db"
    config = load(write_config(tmp_path, f"sqlite:///{path}"), environ={})
    engine = connect(f"sqlite:///{path}")

    def impatient(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=50")

    event.listen(engine, "connect", impatient)
    migrate(engine)
    side = Subscribers(config, engine, now=clock)
    side.store.add_confirmed(parse("reader@example.org"), Consent("import", "test"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing: the store's write waits 50 ms, then fails
    try:
        with pytest.raises(StoreError) as raised:
            side.store.suppress(parse("other@example.org"), Status.BOUNCED)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()
    assert raised.value.transient
    assert is_transient(raised.value)
    assert "other@example.org" not in str(raised.value)


async def test_a_transient_store_error_is_waited_out_and_any_other_is_raised_at_once() -> None:
    tries: list[int] = []

    def flaky() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise StoreError("the subscriber database failed (OperationalError)", transient=True)
        return "recipients"

    assert await patiently(flaky, patience=5, doing="looking up", sleep=no_sleep) == "recipients"
    assert len(tries) == 3

    def broken() -> str:
        tries.append(1)
        raise StoreError("the subscriber database failed (ProgrammingError)")

    tries.clear()
    with pytest.raises(StoreError):
        await patiently(broken, patience=5, doing="looking up", sleep=no_sleep)
    assert len(tries) == 1


async def test_a_store_that_stays_away_ends_in_one_line_without_its_words() -> None:
    def away() -> str:
        raise StoreError("the subscriber database failed (OperationalError); check that it is reachable",
                         transient=True)

    with pytest.raises(DatabaseUnavailable) as raised:
        await patiently(away, patience=0.2, doing="looking up the batch's recipients", sleep=no_sleep)
    assert "looking up the batch's recipients" in str(raised.value)
    assert "\n" not in str(raised.value)
