"""What the CLI tests share: a command run in this process, and confirmed readers put on the list."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine

from newsletter.cli import cli
from newsletter.config.settings import load
from subscribers.addresses import parse
from subscribers.side import Subscribers
from subscribers.store import Consent


def run(runner: CliRunner, config_file: Path, *args: str) -> tuple[int, str, str]:
    """`newsletter --config CONFIG_FILE ARGS...`: its exit code, stdout and stderr (200 columns wide)."""
    result = runner.invoke(cli, ["--config", str(config_file), *args], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def add_readers(config_file: Path, engine: Engine, addresses: Iterable[str]) -> None:
    """Confirmed readers, as an import with their consent would add them."""
    side = Subscribers(load(config_file, environ={}), engine)
    for address in addresses:
        side.store.add_confirmed(parse(address), Consent("import", "test"))
