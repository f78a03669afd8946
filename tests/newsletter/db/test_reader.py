"""The read-only view through the driver: the same schema check and failure lines as the engine's, and
nothing ever written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from newsletter.db.reader import bind, reading
from newsletter.db.schema_version import head_revision
from newsletter.errors import DatabaseError


def test_a_database_set_up_by_init_is_read_in_one_transaction(engine: Engine, database_url: str) -> None:
    with reading(database_url) as reader:
        assert reader.scalar("SELECT version_num FROM alembic_version") == head_revision()
        assert reader.has_table("deliveries")
        assert not reader.has_table("no_such_table")
        assert reader.rows("SELECT count(*) FROM issues WHERE week IN :weeks", weeks=("2026-W47", "2026-W48")) == [(0,)]


def test_a_reading_writes_nothing(engine: Engine, database_url: str) -> None:
    with pytest.raises(DatabaseError), reading(database_url) as reader:
        reader.rows("INSERT INTO issues (week, subject, created_at) VALUES ('2026-W47', 'x', '2026-11-23')")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM issues")).scalar() == 0


def test_a_missing_sqlite_file_is_not_created_and_init_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here.db"
    there = r"there is no database at .*nothing-here\.db: run `newsletter init`"
    with pytest.raises(DatabaseError, match=there), reading(f"sqlite:///{missing}"):
        pass
    assert not missing.exists()


def test_a_sqlite_file_without_a_schema_asks_for_init(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    asked = r"has no schema, this version needs .*: run `newsletter init`"
    with pytest.raises(DatabaseError, match=asked), reading(f"sqlite:///{empty}"):
        pass


def test_a_database_from_a_newer_version_is_refused_as_the_engine_refuses_it(engine: Engine,
                                                                          database_url: str) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(DatabaseError, match="made by a newer version of newsletter"), reading(database_url):
        pass


def test_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    other = tmp_path / "notes.db"
    other.write_bytes(b"these are not the pages of a database, " * 200)
    said = r"notes\.db is not a SQLite database: check database\.url"
    with pytest.raises(DatabaseError, match=said), reading(f"sqlite:///{other}"):
        pass


def test_an_unreachable_postgresql_names_host_and_port_never_the_password() -> None:
    url = "postgresql+psycopg://newsletter:s3cret-word@127.0.0.1:1/news"
    with pytest.raises(DatabaseError) as raised, reading(url):
        pass
    said = str(raised.value)
    assert said.startswith("cannot reach the PostgreSQL server at 127.0.0.1:1 (")
    assert "s3cret-word" not in said
    assert "newsletter:" not in said


def test_a_url_naming_another_database_is_refused_with_what_to_do() -> None:
    with pytest.raises(DatabaseError, match="names neither SQLite nor PostgreSQL"), reading("mysql://db/news"):
        pass


@pytest.mark.parametrize(("pyformat", "expected"), [
    (False, "SELECT x FROM t WHERE a = :a AND b IN (:b_0, :b_1) AND c::text = 'x'"),
    (True, "SELECT x FROM t WHERE a = %(a)s AND b IN (%(b_0)s, %(b_1)s) AND c::text = 'x'"),
], ids=["sqlite", "psycopg"])
def test_parameters_take_the_drivers_style_and_tuples_expand(pyformat: bool, expected: str) -> None:
    sql, values = bind("SELECT x FROM t WHERE a = :a AND b IN :b AND c::text = 'x'", {"a": 1, "b": ("p", "q")},
                       pyformat=pyformat)
    assert sql == expected
    assert values == {"a": 1, "b_0": "p", "b_1": "q"}


def test_a_parameter_without_a_value_is_a_programming_error_not_a_null() -> None:
    with pytest.raises(KeyError, match=":week"):
        bind("SELECT 1 FROM issues WHERE week = :week", {}, pyformat=False)
