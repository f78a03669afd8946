"""`newsletter init`: the database it creates, and what it records about the key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.db.engine import connect
from tests.conftest import write_config


def test_init_creates_the_sqlite_database_and_its_wal_readable_by_their_owner_only(runner: CliRunner,
                                                                                    tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newsletter.db'}"
    path = write_config(tmp_path, url)
    previous = os.umask(0o022)  # the common default outside systemd: new files readable by everyone
    try:
        result = runner.invoke(cli, ["--config", str(path), "init"])
        assert result.exit_code == 0, result.output
        engine = connect(url)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA user_version = 7")  # a write: the WAL and its index exist now
            conn.commit()
            modes = {file.name: stat.S_IMODE(file.stat().st_mode) for file in tmp_path.glob("newsletter.db*")}
        engine.dispose()
    finally:
        os.umask(previous)
    assert modes == {"newsletter.db": 0o600, "newsletter.db-wal": 0o600, "newsletter.db-shm": 0o600}
