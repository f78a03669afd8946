"""`newsletter subscribers ...` and the key file of `init`, through click's CliRunner."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from newsletter.cli import NewsletterGroup, cli
from newsletter.cli.app import App
from newsletter.cli.subscribers import COMMANDS
from newsletter.db.schema_version import head_revision
from subscribers.addresses import parse
from subscribers.keys import new_secret
from subscribers.side import Subscribers
from subscribers.store import Consent
from subscribers.tables import MailState, Status

ROOT = NewsletterGroup(commands={command.name: command for command in COMMANDS if command.name})
WEB = Consent("web-signup", "signup-test")


def run(runner: CliRunner, config_path: Path, *args: str, input: str | None = None) -> Result:
    app = App(config_path)
    try:
        return runner.invoke(ROOT, list(args), obj=app, input=input)
    finally:
        app.close()


@pytest.fixture
def filled(side: Subscribers) -> Subscribers:
    """Two pending, one confirmed, one unsubscribed."""
    for name in ("ann", "ben", "cat", "dan"):
        side.store.sign_up(parse(f"{name}@example.org"), WEB)
    for name, leave in (("cat", False), ("dan", True)):
        _, nonce = side.store.pending_addresses([_id(side, name)])[_id(side, name)]
        side.store.confirm(_id(side, name), nonce)
        if leave:
            side.store.unsubscribe(_id(side, name), nonce)
    return side


def _id(side: Subscribers, name: str) -> int:
    return {"ann": 1, "ben": 2, "cat": 3, "dan": 4}[name]


def test_stats_counts_by_status_and_mail_state(runner: CliRunner, config_path: Path, filled: Subscribers) -> None:
    result = run(runner, config_path, "subscribers", "stats")
    assert result.exit_code == 0
    assert result.output == (
        "subscribers\n"
        "  pending              2\n"
        "  confirmed            1\n"
        "  unsubscribed         1\n"
        "  bounced              0\n"
        "  complained           0\n"
        "confirmation emails\n"
        "  pending              2\n"
        "  sending              0\n"
        "  sent                 0\n"
        "  failed               0\n"
        "  cancelled            2\n"
        "suppressions by reason\n"
        "  unsubscribed         1\n"
        "  bounced              0\n"
        "  complained           0\n"
        "  0 of them imported with `subscribers suppress` (no address kept)\n"
    )
    assert "@" not in result.output


def test_stats_json_is_one_object(runner: CliRunner, config_path: Path, filled: Subscribers) -> None:
    result = run(runner, config_path, "subscribers", "stats", "--json")
    assert json.loads(result.output) == {
        "subscribers": {"pending": 2, "confirmed": 1, "unsubscribed": 1, "bounced": 0, "complained": 0},
        "suppressions": {"unsubscribed": 1, "bounced": 0, "complained": 0, "imported": 0},
        "confirmation_emails": {"pending": 2, "sending": 0, "sent": 0, "failed": 0, "cancelled": 2},
    }


@pytest.mark.parametrize(("address", "output", "code"), [
    ("ANN@example.org", "pending: signed up, has not confirmed yet\n", 0),
    ("cat@example.org", "confirmed: receives the newsletter\n", 0),
    ("dan@example.org", "unsubscribed: kept only as a one-way fingerprint; never sent an issue, and a "
                        "confirmation email only if signed up again on the form\n", 0),
    ("eve@example.org", "not on the list\n", 1),
], ids=["pending", "confirmed", "unsubscribed", "unknown"])
def test_lookup_tells_the_status_of_one_address(runner: CliRunner, config_path: Path, filled: Subscribers,
                                                address: str, output: str, code: int) -> None:
    result = run(runner, config_path, "subscribers", "lookup", address)
    assert (result.output, result.exit_code) == (output, code)


def test_lookup_of_a_malformed_address_says_what_is_wrong(runner: CliRunner, config_path: Path,
                                                          side: Subscribers) -> None:
    result = run(runner, config_path, "subscribers", "lookup", "ann@@example.org")
    assert result.exit_code == 2
    assert result.output == "error: An email address has exactly one @ sign.\n"


def test_import_queues_confirmations_and_reports_bad_lines_by_number_only(
        runner: CliRunner, config_path: Path, filled: Subscribers, tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text("# old list\nnew1@example.org\nnot an address\nann@example.org\ncat@example.org\n"
                       "dan@example.org\nx@y@z\nalice@example.org\r\nBcc: eve@example.org\nnew2@example.org\n"
                       + "q" * 10_000 + "@example.org\n", encoding="utf-8")
    result = run(runner, config_path, "subscribers", "import", str(listing))
    assert result.exit_code == 1
    assert result.output == (
        "  line 3: skipped: An email address cannot contain spaces.\n"
        "  line 7: skipped: An email address has exactly one @ sign.\n"
        "  line 9: skipped: An email address cannot contain spaces.\n"
        "  line 11: skipped: That is too long for an email address (at most 254 characters).\n"
        # ann signed up (in the fixture's clock) more than an hour before now: she is mailed again.
        "10 address(es) read, 4 confirmation email(s) queued, "
        "1 already confirmed, 1 unsubscribed or bounced, left alone, 4 invalid line(s) skipped\n"
        "`newsletter serve` sends the confirmation emails.\n"
    )
    assert filled.store.lookup(parse("new1@example.org")) is Status.PENDING
    assert filled.store.lookup(parse("alice@example.org")) is Status.PENDING
    assert filled.store.lookup(parse("dan@example.org")) is Status.UNSUBSCRIBED
    assert filled.outbox.counts()[MailState.PENDING] == 6


def test_import_with_recorded_consent_confirms_at_once(runner: CliRunner, config_path: Path,
                                                       filled: Subscribers, tmp_path: Path) -> None:
    listing = tmp_path / "members.csv"
    listing.write_text("name,email\nFay,fay@example.org\nAnn,ann@example.org\nDan,dan@example.org\n")
    result = run(runner, config_path, "subscribers", "import", str(listing), "--confirmed",
                 "--consent-note", "paper sign-up sheets, members' evening 2026-10-02")
    assert result.exit_code == 0
    assert result.output == ("3 address(es) read, 2 added as confirmed, 1 unsubscribed or bounced, "
                             "left alone\n")
    assert filled.store.counts()[Status.CONFIRMED] == 3


@pytest.mark.parametrize("args", [["--confirmed"], ["--consent-note", "fair"]], ids=["no-note", "no-flag"])
def test_confirmed_and_consent_note_go_together(runner: CliRunner, config_path: Path, side: Subscribers,
                                               tmp_path: Path, args: list[str]) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text("fay@example.org\n")
    result = run(runner, config_path, "subscribers", "import", str(listing), *args)
    assert result.exit_code == 2
    assert "--confirmed and --consent-note go together" in result.output
    assert side.store.lookup(parse("fay@example.org")) is None


def test_a_consent_note_holding_an_address_is_refused(runner: CliRunner, config_path: Path,
                                                      side: Subscribers, tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text("fay@example.org\n")
    result = run(runner, config_path, "subscribers", "import", str(listing), "--confirmed",
                 "--consent-note", "forwarded by boss@example.org")
    assert result.exit_code == 2
    assert result.output == "error: --consent-note: must not contain an email address; describe the source\n"


def test_erase_removes_every_trace_after_asking(runner: CliRunner, config_path: Path,
                                                filled: Subscribers) -> None:
    refused = run(runner, config_path, "subscribers", "erase", "dan@example.org", input="n\n")
    assert refused.exit_code == 1
    assert filled.store.lookup(parse("dan@example.org")) is Status.UNSUBSCRIBED
    done = run(runner, config_path, "subscribers", "erase", "dan@example.org", input="y\n")
    assert done.exit_code == 0
    assert done.output.endswith("erased: nothing about this address is kept any more\n")
    assert filled.store.lookup(parse("dan@example.org")) is None
    again = run(runner, config_path, "subscribers", "erase", "--yes", "dan@example.org")
    assert (again.exit_code, again.output) == (1, "not on the list: nothing to erase\n")


def test_commands_on_a_database_without_schema_say_to_run_init(runner: CliRunner, tmp_path: Path) -> None:
    from tests.conftest import write_config

    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}")
    (tmp_path / "empty.db").touch()  # a database file, but nothing in it (a missing one: test_database_errors)
    result = run(runner, path, "subscribers", "stats")
    assert result.exit_code == 1
    assert result.output == (f"error: the database has no schema, this version needs {head_revision()}: "
                             "run `newsletter init`\n")


def test_init_creates_the_key_file_once_with_mode_0600(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "newsletter.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "news.db"}"\n')
    first = runner.invoke(cli, ["--config", str(config), "init"])
    key = tmp_path / "newsletter.key"
    assert first.exit_code == 0
    assert f"key file created at {key} (mode 0600)" in first.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = key.read_bytes()
    second = runner.invoke(cli, ["--config", str(config), "init"])
    assert "key file" not in second.output
    assert key.read_bytes() == before


def test_init_makes_no_key_file_when_the_key_comes_from_the_environment(runner: CliRunner,
                                                                        tmp_path: Path) -> None:
    config = tmp_path / "newsletter.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "news.db"}"\n')
    result = runner.invoke(cli, ["--config", str(config), "init"], env={"NEWSLETTER_PRIVACY_KEY": new_secret()})
    assert result.exit_code == 0
    assert "key: from NEWSLETTER_PRIVACY_KEY (no key file needed)" in result.output
    assert not (tmp_path / "newsletter.key").exists()


def test_the_subscribers_group_is_a_click_group() -> None:
    assert isinstance(COMMANDS[0], click.Group)
    assert COMMANDS[0].list_commands(click.Context(COMMANDS[0])) == ["erase", "import", "lookup", "stats", "suppress"]


def test_suppress_keeps_a_moved_lists_addresses_as_fingerprints_that_import_leaves_alone(
        runner: CliRunner, config_path: Path, side: Subscribers, tmp_path: Path) -> None:
    side.store.add_confirmed(parse("kept@example.org"), Consent("import", "test"))
    moved = tmp_path / "bounced.csv"
    moved.write_text("email,when\nold1@example.org,2025\nnot an address,2025\nKept@Example.org,2024\n",
                     encoding="utf-8")
    result = run(runner, config_path, "subscribers", "suppress", str(moved), "--reason", "bounced")
    assert result.exit_code == 1, result.output
    assert result.stdout.strip() == "3 address(es) read, 2 suppressed as bounced, 1 invalid line(s) skipped"
    assert "line 3: skipped" in result.stderr
    assert {side.store.lookup(parse(a)) for a in ("old1@example.org", "kept@example.org")} == {Status.BOUNCED}
    with side.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM subscribers WHERE address IS NOT NULL")).scalar() == 0
    again = tmp_path / "old.txt"
    again.write_text("old1@example.org\nkept@example.org\n", encoding="utf-8")
    imported = run(runner, config_path, "subscribers", "import", str(again), "--confirmed",
                   "--consent-note", "old provider")
    assert "2 unsubscribed or bounced, left alone" in imported.stdout
    assert side.store.counts()[Status.CONFIRMED] == 0
    stats = json.loads(run(runner, config_path, "subscribers", "stats", "--json").stdout)
    assert stats["suppressions"] == {"unsubscribed": 0, "bounced": 2, "complained": 0, "imported": 1}
    assert side.store.sign_up(parse("old1@example.org"), WEB).value == "restarted"  # only a new double opt-in


def test_suppress_one_address_says_whether_it_changed_anything(runner: CliRunner, config_path: Path,
                                                               side: Subscribers) -> None:
    result = run(runner, config_path, "subscribers", "suppress", "Someone@Example.org", "--reason", "complained")
    assert (result.exit_code, result.stdout.strip()) == (0, "suppressed as complained")
    result = run(runner, config_path, "subscribers", "suppress", "someone@example.org")
    assert (result.exit_code, result.stdout.strip()) == (0, "already suppressed: left as it was")
    assert side.store.lookup(parse("someone@example.org")) is Status.COMPLAINED
    result = run(runner, config_path, "subscribers", "suppress", "two@@example.org")
    assert result.exit_code == 2
    assert "two@@" not in result.stderr
