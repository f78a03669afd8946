"""A read-only view of the database for the commands that only look: the driver itself, no SQLAlchemy.

Why not SQLAlchemy here: importing it costs about 0.2-0.3 s of CPU and 23 MiB on this project's
machines, most of the budget of `newsletter status` or `subscribers stats` (issue #16: 0.3 s and 50 MiB
for the whole process). Those commands run a few SELECTs that read the same on SQLite and PostgreSQL, so
they go through the DB-API driver directly: sqlite3 from the standard library, or psycopg (whose own
import then costs about as much as SQLAlchemy's; the target is met on the embedded default). Each
statement lives in the package that owns the table it reads, beside the SQLAlchemy code it mirrors
(`delivery/glance.py`, `issues/glance.py`, `subscribers/glance.py`), and tests check that both answer
alike on both databases.

A reading is one read-only transaction, so what a command prints comes from one moment: SQLite's
deferred BEGIN with `query_only` on, PostgreSQL's REPEATABLE READ, READ ONLY. Statements are written
with `:name` parameters (sqlite3's style); for psycopg they become `%(name)s`. A tuple parameter is
expanded for `IN :name`. A failure is the same one line `db/failures.py` gives everywhere else.
Values come back as each driver stores what SQLAlchemy wrote (SQLite: text for JSON, dates and moments);
`json_value`, `day` and `moment` read them alike from both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit

from newsletter.db.failures import Where, explain_driver
from newsletter.db.schema_version import require_file, require_revision
from newsletter.errors import DatabaseError

_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")
_SQLITE_URL = re.compile(r"^sqlite(?:\+\w+)?://(?P<rest>.*)$", re.DOTALL)
_POSTGRESQL_URL = re.compile(r"^postgresql(?:\+\w+)?(?P<rest>://.*)$", re.DOTALL)
BUSY_MS = 10_000  # as the engine's busy_timeout (db/engine.py)


class _Cursor(Protocol):
    def execute(self, sql: str, parameters: Mapping[str, Any], /) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Reader:
    """Runs SELECTs in the reading's transaction; rows come back as tuples."""

    def __init__(self, cursor: _Cursor, backend: str) -> None:
        self._cursor = cursor
        self.backend = backend  # "sqlite" or "postgresql"

    def rows(self, sql: str, **parameters: Any) -> list[tuple[Any, ...]]:
        statement, values = bind(sql, parameters, pyformat=self.backend == "postgresql")
        self._cursor.execute(statement, values)
        return [tuple(row) for row in self._cursor.fetchall()]

    def scalar(self, sql: str, **parameters: Any) -> Any:
        """The first column of the first row, or None when there is no row."""
        found = self.rows(sql, **parameters)
        return found[0][0] if found else None

    def has_table(self, name: str) -> bool:
        if self.backend == "sqlite":
            return bool(self.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :name",
                                    name=name))
        return bool(self.scalar("SELECT to_regclass(:name) IS NOT NULL", name=name))


def bind(sql: str, parameters: Mapping[str, Any], *, pyformat: bool) -> tuple[str, dict[str, Any]]:
    """`sql` with its `:name` parameters in the driver's style, tuples expanded into one each."""
    values: dict[str, Any] = {}

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in parameters:
            raise KeyError(f"no value for :{name}")
        value = parameters[name]
        if isinstance(value, tuple):
            names = [f"{name}_{n}" for n in range(len(value))]
            values.update(zip(names, value, strict=True))
            return "(" + ", ".join(_style(each, pyformat) for each in names) + ")"
        values[name] = value
        return _style(name, pyformat)

    return _PARAMETER.sub(placeholder, sql), values


def json_value(value: Any) -> Any:
    """A JSON column's value: SQLite gives its text (JSON null as 'null'), psycopg the value itself."""
    return json.loads(value) if isinstance(value, str) else value


def day(value: date | str) -> date:
    """A date column's value: psycopg gives a date, SQLite the ISO text SQLAlchemy wrote."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def moment(value: datetime | str) -> datetime:
    """A stored moment in UTC: psycopg gives a datetime, SQLite the text SQLAlchemy wrote (naive UTC)."""
    found = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


def _style(name: str, pyformat: bool) -> str:
    return f"%({name})s" if pyformat else f":{name}"


@contextmanager
def reading(url: str) -> Iterator[Reader]:
    """A read-only transaction on the database at `url` (a SQLAlchemy-style URL, as in database.url),
    after checking that `newsletter init` of this version set it up; nothing is ever written."""
    sqlite = _SQLITE_URL.match(url)
    if sqlite:
        with _sqlite(sqlite.group("rest")) as reader:
            yield reader
        return
    postgresql = _POSTGRESQL_URL.match(url)
    if postgresql is None:
        raise DatabaseError("database.url cannot be used (it names neither SQLite nor PostgreSQL); "
                            "see config.example.toml")
    with _postgresql("postgresql" + postgresql.group("rest")) as reader:
        yield reader


@contextmanager
def _sqlite(rest: str) -> Iterator[Reader]:
    import sqlite3

    path, _, _query = rest.removeprefix("/").partition("?")
    in_memory = path in ("", ":memory:")
    if not in_memory:
        require_file(Path(path))
    where = Where("sqlite", path or None, None, None)
    # mode=rw: a file that went missing since the check is an error, not a new empty database.
    target = "file::memory:" if in_memory else f"file:{quote(path)}?mode=rw"
    try:
        connection = sqlite3.connect(target, uri=True, timeout=BUSY_MS / 1000, isolation_level=None)
    except sqlite3.Error as error:
        raise explain_driver(error, where) from None
    try:
        cursor = connection.cursor()
        cursor.execute("PRAGMA query_only = ON")
        cursor.execute("BEGIN")
        reader = Reader(cursor, "sqlite")
        _check_schema(reader)
        yield reader
    except sqlite3.Error as error:
        raise explain_driver(error, where) from None
    finally:
        connection.close()


@contextmanager
def _postgresql(url: str) -> Iterator[Reader]:
    import psycopg

    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    where = Where("postgresql", None, unquote(parts.hostname or "") or None, port)
    try:
        connection = psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as error:
        raise explain_driver(error, where) from None
    try:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        reader = Reader(connection.cursor(), "postgresql")
        _check_schema(reader)
        yield reader
    except psycopg.Error as error:
        raise explain_driver(error, where) from None
    finally:
        connection.close()  # without a commit: the transaction read, and is rolled back


def _check_schema(reader: Reader) -> None:
    current = reader.scalar("SELECT version_num FROM alembic_version") if reader.has_table("alembic_version") else None
    require_revision(current)
