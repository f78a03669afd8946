"""What a person sees when the database (or a file a command needs) fails: one line that names the problem
and the fix, never a traceback, never the SQL or its parameters."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from newsletter.cli import cli
from newsletter.db.engine import connect
from tests.conftest import EXAMPLES, write_config
from tests.processes import free_port


def invoke(runner: CliRunner, config: Path, *args: str) -> Result:
    return runner.invoke(cli, ["--config", str(config), *args])


def one_line(result: Result) -> str:
    """The error, checked to be a single line and nothing a person should not see."""
    assert isinstance(result.exception, SystemExit), result.exception  # an exit, not a crash
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ")
    for leak in ("Traceback", "[SQL", "parameters", "INSERT", "SELECT", "sqlalche.me"):
        assert leak not in result.output
    return line


@pytest.fixture
def sqlite_config(tmp_path: Path, runner: CliRunner) -> Path:
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'newsletter.db'}")
    assert invoke(runner, path, "init").exit_code == 0
    return path


@pytest.fixture
def writer_holding_the_lock(tmp_path: Path, sqlite_config: Path) -> Iterator[None]:
    """Another program in the middle of a long write: it holds SQLite's write lock until the test ends."""
    other = sqlite3.connect(tmp_path / "newsletter.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.mark.slow  # SQLite waits out its 10 s busy timeout before it gives up
@pytest.mark.usefixtures("writer_holding_the_lock")
def test_a_locked_sqlite_database_during_ingest_is_one_line_that_says_to_wait(runner: CliRunner,
                                                                            sqlite_config: Path) -> None:
    result = invoke(runner, sqlite_config, "ingest", str(EXAMPLES / "pages" / "2026-11-16.txt"))
    assert result.exit_code == 1
    line = one_line(result)
    assert "locked" in line
    assert "run the command again" in line
    assert "Lamp" not in line  # nothing of the statement's parameters


def test_an_unreachable_postgresql_server_is_one_line_that_names_it(runner: CliRunner, tmp_path: Path) -> None:
    port = free_port()
    path = write_config(tmp_path, f"postgresql+psycopg://news:s3cret@127.0.0.1:{port}/news")
    for command in (["status"], ["ingest", str(EXAMPLES / "pages")], ["init"]):
        result = invoke(runner, path, *command)
        assert result.exit_code == 1
        line = one_line(result)
        assert f"cannot reach the PostgreSQL server at 127.0.0.1:{port}" in line
        assert "check that it is running" in line
        assert "s3cret" not in line


def test_a_text_file_given_as_the_sqlite_database_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping: bread, milk, apples\n" * 100)
    path = write_config(tmp_path, f"sqlite:///{notes}")
    for command in ("status", "init"):
        result = invoke(runner, path, command)
        assert result.exit_code == 1
        assert one_line(result) == (f"error: {notes} is not a SQLite database: check database.url "
                                    "(or move that file away and run `newsletter init` to create one there)")
    assert notes.read_text().startswith("shopping")


def test_a_database_from_a_newer_version_says_to_upgrade_and_init_changes_nothing(
        runner: CliRunner, sqlite_config: Path, tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'newsletter.db'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    for command in ("status", "init"):
        result = invoke(runner, sqlite_config, command)
        assert result.exit_code == 1
        line = one_line(result)
        assert "schema 0099_future, made by a newer version of newsletter" in line
        assert "run `newsletter init`" not in line
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0099_future"
    engine.dispose()


def test_status_on_a_missing_sqlite_file_creates_nothing_and_says_how_to_make_one(runner: CliRunner,
                                                                                tmp_path: Path) -> None:
    database = tmp_path / "newsletter.db"
    path = write_config(tmp_path, f"sqlite:///{database}")
    result = invoke(runner, path, "status")
    assert result.exit_code == 1
    assert one_line(result) == f"error: there is no database at {database}: run `newsletter init` to create it"
    assert not database.exists()


def test_preview_into_a_folder_that_cannot_be_made_is_one_line(runner: CliRunner, sqlite_config: Path,
                                                              tmp_path: Path) -> None:
    assert invoke(runner, sqlite_config, "ingest", str(EXAMPLES / "pages")).exit_code == 0
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    result = invoke(runner, sqlite_config, "preview", "--week", "2026-W47", "--out", str(blocker / "preview"))
    assert result.exit_code == 1
    line = one_line(result)
    assert line.startswith(f"error: cannot write the preview into {blocker / 'preview'} (")
    assert "choose a folder you can write to" in line


def test_a_config_file_that_is_not_utf8_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "newsletter.toml"
    path.write_bytes(b'[newsletter]\ntitle = "Le\xe7ons de la semaine"\n')  # Latin-1, as an old editor saves
    result = invoke(runner, path, "status")
    assert result.exit_code == 2
    assert one_line(result) == (f"error: config: file {path} is not UTF-8 text (line 2): save it as UTF-8, "
                                "as TOML files are")
