"""A wrong but valid key: every command that opens addresses refuses it before it changes anything."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from newsletter.cli import cli
from newsletter.config.settings import load
from newsletter.errors import NewsletterError
from newsletter.issues.tables import IssueRow
from newsletter.service.lifecycle import Service, SignupServer
from subscribers.keys import new_secret
from tests.conftest import EXAMPLES, write_config

READERS = ("ann@example.org", "ben@example.org", "cat@example.org")


@dataclass
class Newsletter:
    config: Path
    key_file: Path
    fingerprint: str = ""  # the one `newsletter init` printed for the list's own key
    original: str = ""     # the key file as `newsletter init` left it

    def invoke(self, runner: CliRunner, *args: str, env: dict[str, str] | None = None,
               input: str | None = None) -> tuple[int, str, str]:
        result = runner.invoke(cli, ["--config", str(self.config), *args], env=env, input=input)
        return result.exit_code, result.stdout, result.stderr

    def swap_key(self) -> str:
        """Put another valid key where the list's key was; returns its secret."""
        secret = new_secret()
        self.key_file.write_text(secret + "\n")
        return secret

    def restore_key(self) -> None:
        self.key_file.write_text(self.original)


@pytest.fixture
def newsletter(tmp_path: Path, database_url: str, runner: CliRunner) -> Newsletter:
    """Initialised, the sample week ingested, three readers imported as confirmed under the list's key."""
    path = write_config(tmp_path, database_url)
    readers = tmp_path / "readers.txt"
    readers.write_text("\n".join(READERS) + "\n")
    made = Newsletter(path, tmp_path / "newsletter.key")
    made.original = made.key_file.read_text()
    code, out, _ = made.invoke(runner, "init")
    assert code == 0, out
    found = re.search(r"key fingerprint (\S+)", out)
    made.fingerprint = found.group(1) if found else ""
    for args in (["ingest", str(EXAMPLES / "pages")],
                 ["subscribers", "import", str(readers), "--confirmed", "--consent-note", "paper list"]):
        assert made.invoke(runner, *args)[0] == 0
    return made


def confirmed(newsletter: Newsletter, runner: CliRunner) -> int:
    code, out, _ = newsletter.invoke(runner, "subscribers", "stats")
    assert code == 0, out
    found = re.search(r"confirmed\s+(\d+)", out)
    assert found is not None
    return int(found.group(1))


def test_an_import_under_another_key_is_refused_before_anything_is_added(newsletter: Newsletter,
                                                                       runner: CliRunner, tmp_path: Path) -> None:
    newsletter.swap_key()
    code, _, err = newsletter.invoke(runner, "subscribers", "import", str(tmp_path / "readers.txt"),
                                     "--confirmed", "--consent-note", "paper list")
    assert code == 2
    assert "nothing was changed" in err
    newsletter.restore_key()
    assert confirmed(newsletter, runner) == 3


@pytest.mark.parametrize("args", [
    ["subscribers", "import", "{readers}", "--confirmed", "--consent-note", "paper list"],
    ["subscribers", "import", "{readers}"],
    ["subscribers", "lookup", "ann@example.org"],
    ["subscribers", "erase", "--yes", "ann@example.org"],
    ["send", "--week", "2026-W47", "--dry-run"],
    ["send", "--week", "2026-W47"],
], ids=["import-confirmed", "import", "lookup", "erase", "dry-run", "send"])
def test_every_command_that_opens_the_list_refuses_another_key_and_names_the_expected_one(
        newsletter: Newsletter, runner: CliRunner, tmp_path: Path, engine: Engine, args: list[str]) -> None:
    secret = newsletter.swap_key()
    code, out, err = newsletter.invoke(runner, *(a.format(readers=tmp_path / "readers.txt") for a in args))
    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert line.startswith("error: the key in ")
    assert newsletter.fingerprint
    assert f"sealed with the key of fingerprint {newsletter.fingerprint}" in line
    assert "nothing was changed" in line
    assert secret.split(".")[1][:8] not in err
    newsletter.restore_key()
    assert confirmed(newsletter, runner) == 3
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(IssueRow)) == 0


def test_a_key_from_the_environment_is_checked_the_same_way(newsletter: Newsletter, runner: CliRunner) -> None:
    code, _, err = newsletter.invoke(runner, "subscribers", "lookup", "ann@example.org",
                                     env={"NEWSLETTER_PRIVACY_KEY": new_secret()})
    assert code == 2
    assert "the key from NEWSLETTER_PRIVACY_KEY" in err
    assert "nothing was changed" in err


def test_run_and_serve_refuse_another_key_before_they_listen(newsletter: Newsletter, engine: Engine) -> None:
    newsletter.swap_key()
    config = load(newsletter.config, environ={})
    for start in (SignupServer, Service):
        with pytest.raises(NewsletterError, match="nothing was changed"):
            start(config, engine, host="127.0.0.1", port=0)


def test_init_will_not_make_a_new_key_for_a_list_sealed_with_another(newsletter: Newsletter,
                                                                    runner: CliRunner) -> None:
    newsletter.key_file.unlink()
    code, _, err = newsletter.invoke(runner, "init")
    assert code == 2
    assert not newsletter.key_file.exists()
    assert f"fingerprint {newsletter.fingerprint}" in err
    assert "restore that key file from your backup" in err



def test_counting_the_list_opens_no_address_so_it_needs_no_key(newsletter: Newsletter, runner: CliRunner) -> None:
    newsletter.swap_key()
    assert confirmed(newsletter, runner) == 3
    newsletter.key_file.unlink()
    assert confirmed(newsletter, runner) == 3
    newsletter.restore_key()
