"""What `newsletter send` says when it ends with rows left: when deferred rows are retried, and why a send
stopped (a relay that refuses to send for us), in one line with no address and no stack trace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from newsletter.cli import cli
from newsletter.config.settings import load
from subscribers.addresses import parse
from subscribers.side import Subscribers
from subscribers.tables import Status
from tests.conftest import EXAMPLES, write_config
from tests.newsletter.cli.commands import add_readers, run
from tests.newsletter.smtp_server import SmtpServer

READERS = [f"reader{n}@example.com" for n in range(6)]


@pytest.fixture
def config_file(tmp_path: Path, database_url: str, runner: CliRunner, engine: Engine,
                threaded_smtp_server: SmtpServer) -> Path:
    """The sample week and six confirmed readers, sending over SMTP to the threaded test server."""
    path = write_config(tmp_path, database_url, delivery={"transport": "smtp", "linger_seconds": 0,
                                                          "retry_seconds": 600},
                        smtp={"host": threaded_smtp_server.host, "port": threaded_smtp_server.port,
                              "timeout": 5.0, "connections": 2})
    for args in (["init"], ["ingest", str(EXAMPLES / "pages")]):
        assert runner.invoke(cli, ["--config", str(path), *args]).exit_code == 0
    add_readers(path, engine, READERS)
    return path


def test_rows_deferred_for_later_are_normal_the_send_says_when_they_are_retried_and_exits_0(
        runner: CliRunner, config_file: Path, threaded_smtp_server: SmtpServer) -> None:
    threaded_smtp_server.faults.rcpt = {READERS[2]: "451 4.7.1 Greylisted, try again later"}
    code, out, err = run(runner, config_file, "send", "--week", "2026-W47")
    assert code == 0, err
    assert "sent 5, deferred 1, failed 0, skipped 0" in out
    assert re.search(r"1 deferred: retried from \d{4}-\d\d-\d\d \d\d:\d\d UTC", out), out


def test_a_relay_that_refuses_to_relay_stops_the_send_with_one_line_and_bounces_nobody(
        runner: CliRunner, config_file: Path, threaded_smtp_server: SmtpServer, engine: Engine) -> None:
    threaded_smtp_server.faults.rcpt = dict.fromkeys(READERS, "554 5.7.1 Relay access denied")
    code, out, err = run(runner, config_file, "send", "--week", "2026-W47")
    assert code == 1
    [line] = err.strip().splitlines()[-1:]
    assert line.startswith("error: the relay refused to send for us")
    assert "Relay access denied" in line
    assert "nobody was marked bounced" in line
    assert "newsletter send --week 2026-W47" in line
    assert "Traceback" not in out + err
    assert "@example.com" not in out + err
    side = Subscribers(load(config_file, environ={}), engine)
    assert {side.store.lookup(parse(address)) for address in READERS} == {Status.CONFIRMED}
