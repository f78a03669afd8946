"""Imported first by a `newsletter send` the benchmark runs: counts every statement the process sends to
its database and writes the count to $BENCH_STATEMENTS when it exits.

SQLAlchemy's cursor and commit events count what goes through SQLAlchemy; on SQLite, the outcome commits
that go through the driver directly (`delivery/commits.py`) are counted by the driver's trace callback,
which sees every statement on every connection, so SQLite counts come from it alone.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

_count = [0]


def _one(*_: Any) -> None:
    _count[0] += 1


@event.listens_for(Engine, "connect")
def _connected(dbapi_connection: Any, _: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.set_trace_callback(_one)


@event.listens_for(Engine, "before_cursor_execute")
def _executing(conn: Any, *_: Any) -> None:
    if conn.dialect.name != "sqlite":
        _one()


@event.listens_for(Engine, "commit")
def _committing(conn: Any) -> None:
    if conn.dialect.name != "sqlite":
        _one()


@atexit.register
def _write() -> None:
    target = os.environ.get("BENCH_STATEMENTS")
    if target:
        Path(target).write_text(str(_count[0]))
