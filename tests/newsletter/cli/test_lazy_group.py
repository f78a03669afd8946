"""Each command imports what it uses: the structure behind the start-up figures (bench/startup.py).

These tests look at which modules a command loaded, never at how long it took: timings belong in bench/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from newsletter.cli import COMMANDS, cli
from newsletter.cli.excerpts import EDITS as EXCERPT_EDITS
from newsletter.cli.issue import EDITS as ISSUE_EDITS
from newsletter.cli.lazy_group import Lazy
from newsletter.cli.subscribers import SUBCOMMANDS as SUBSCRIBER_COMMANDS
from tests.conftest import write_config
from tests.processes import MAIN

# What the service, the send and the ingest need; a command that only reads counts must not pay for them.
# (APScheduler is not here: every command checks `[schedule] cron` with the scheduler's own reading.)
HEAVY = ("alembic", "starlette", "uvicorn", "premailer", "feedparser", "httpx", "aiosmtplib", "dkim", "lxml",
         "nh3")

# Runs `newsletter ARGS...` in this process, then writes the top-level packages it loaded to argv[1].
PROBE = """
import json, sys
from newsletter.cli import cli
try:
    cli(sys.argv[2:], prog_name="newsletter")
except SystemExit as stop:
    code = stop.code
loaded = sorted({name.partition(".")[0] for name in sys.modules})
open(sys.argv[1], "w").write(json.dumps({"code": code, "loaded": loaded}))
"""


def loaded_by(folder: Path, *args: str, code: int = 0) -> set[str]:
    """The top-level packages `newsletter ARGS` loaded, once it has exited with `code`."""
    out = folder / "loaded.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    done = subprocess.run([sys.executable, "-c", PROBE, str(out), *args], check=False, cwd=folder,
                          env=env, capture_output=True, text=True, timeout=60)
    report = json.loads(out.read_text())
    assert report["code"] == code, done.stderr
    return set(report["loaded"])


@pytest.fixture
def deployment(tmp_path: Path) -> Path:
    """A folder with a config and a database `newsletter init` has set up."""
    write_config(tmp_path, f"sqlite:///{tmp_path / 'newsletter.db'}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    subprocess.run([*MAIN, "init"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=60)
    return tmp_path


# Every table of commands loaded on first use: the top level's, and the subcommands of three groups.
TABLES: dict[str, dict[str, Lazy]] = {"newsletter": COMMANDS, "excerpts": EXCERPT_EDITS, "issue": ISSUE_EDITS,
                                      "subscribers": SUBSCRIBER_COMMANDS}


@pytest.mark.parametrize(("group", "name"), [(group, name) for group, table in TABLES.items() for name in table])
def test_the_help_listing_says_what_each_command_says_of_itself(group: str, name: str) -> None:
    entry = TABLES[group][name]
    listed = click.Command(name, help=entry.summary)
    assert listed.get_short_help_str(200) == entry.load().get_short_help_str(200)


def test_every_command_in_the_table_is_found_under_its_name() -> None:
    context = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(context, name)
        assert command is not None
        assert command.name == name


def test_help_imports_no_command_and_no_database_library(tmp_path: Path) -> None:
    loaded = loaded_by(tmp_path, "--help")
    assert loaded.isdisjoint({*HEAVY, "sqlalchemy", "jinja2", "rich", "babel"}), loaded


@pytest.mark.parametrize(("args", "code", "also"), [
    (("issue", "show"), 0, {"jinja2"}),
], ids=["issue-show"])
def test_a_command_that_reads_counts_does_not_load_the_service_the_send_or_the_ingest(
        deployment: Path, args: tuple[str, ...], code: int, also: set[str]) -> None:
    loaded = loaded_by(deployment, *args, code=code)  # status: no issue yet, said with exit code 1
    assert "sqlalchemy" in loaded  # it did open the database
    assert loaded.isdisjoint({*HEAVY, *also}), sorted(loaded & {*HEAVY, *also})


@pytest.mark.parametrize(("args", "code", "also"), [
    (("status",), 1, {"rich"}),  # no issue yet, said with exit code 1; plain lines
    (("subscribers", "stats"), 0, {"rich"}),
    (("excerpts",), 0, set()),  # a Rich table
], ids=["status", "subscribers-stats", "excerpts"])
def test_a_command_that_only_looks_reads_through_the_driver_alone(deployment: Path, args: tuple[str, ...],
                                                                  code: int, also: set[str]) -> None:
    loaded = loaded_by(deployment, *args, code=code)
    assert "sqlite3" in loaded  # it did open the database, through the driver
    # No SQLAlchemy (db/reader.py says why), no key material (nothing here opens an address), no templates.
    assert loaded.isdisjoint({*HEAVY, "sqlalchemy", "cryptography", "jinja2", *also}), loaded
