"""`newsletter send`, `send --dry-run`, `send --to` and `newsletter status`, as an admin runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from newsletter.cli import cli
from newsletter.config.settings import load
from newsletter.delivery.tables import DeliveryRow
from newsletter.issues.tables import IssueRow
from subscribers.addresses import parse
from subscribers.side import Subscribers
from subscribers.store import Consent
from tests.conftest import EXAMPLES, write_config
from tests.newsletter.cli.commands import add_readers, run
from tests.newsletter.smtp_server import SmtpServer

READERS = [f"reader{n}@example.com" for n in range(6)]


@pytest.fixture
def config_file(tmp_path: Path, database_url: str, runner: CliRunner, engine: Engine) -> Path:
    """A newsletter with the sample week ingested and six confirmed readers; mail goes to the outbox."""
    path = write_config(tmp_path, database_url)
    for args in (["init"], ["ingest", str(EXAMPLES / "pages")]):
        assert runner.invoke(cli, ["--config", str(path), *args]).exit_code == 0
    add_readers(path, engine, READERS)
    return path


def outbox(config_file: Path) -> list[Path]:
    return sorted((config_file.parent / "outbox" / "new").glob("*"))


def test_a_dry_run_reports_everything_and_changes_nothing(runner: CliRunner, config_file: Path,
                                                          engine: Engine) -> None:
    code, out, _ = run(runner, config_file, "send", "--week", "2026-W47", "--dry-run", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["week"] == "2026-W47"
    assert report["subject"] == "Weekly Lessons — week of 16 November 2026"
    assert report["excerpts"][0] == "The Lamp in the Kitchen"
    assert (report["recipients"], report["already_sent"]) == (6, 0)
    assert report["html_bytes"] > 10_000
    assert report["checks"] == {"size": "ok", "headers": "ok", "unsubscribe_link": "ok", "text_part": "ok",
                                "line_length": "ok", "settings": "ok"}
    assert Path(report["preview"]["issue.eml"]).exists()
    assert outbox(config_file) == []
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(IssueRow)) == 0


def test_a_dry_run_points_out_settings_left_at_their_example_values(runner: CliRunner, tmp_path: Path,
                                                                    database_url: str) -> None:
    path = write_config(tmp_path, database_url, web={"base_url": "http://localhost:8080"},
                        newsletter={"from_address": "newsletter@example.org"})
    run(runner, path, "init")
    run(runner, path, "ingest", str(EXAMPLES / "pages"))
    code, out, _ = run(runner, path, "send", "--week", "2026-W47", "--dry-run")
    assert code == 0
    assert "problem unsubscribe_link: links start with http://localhost:8080" in out
    assert "problem settings: still the example value: newsletter.from_address" in out


def test_a_send_writes_one_message_per_reader_and_a_second_run_none(runner: CliRunner, config_file: Path) -> None:
    code, out, _ = run(runner, config_file, "send", "--week", "2026-W47")
    assert code == 0
    assert "created issue 2026-W47: 6 recipient(s), 6 to send" in out
    assert "sent 6, deferred 0, failed 0, skipped 0" in out
    assert len(outbox(config_file)) == 6
    code, out, _ = run(runner, config_file, "send", "--week", "2026-W47")
    assert code == 0
    assert "resuming issue 2026-W47: 6 recipient(s), 0 to send" in out
    assert len(outbox(config_file)) == 6


def test_status_counts_the_issue_by_state(runner: CliRunner, config_file: Path) -> None:
    run(runner, config_file, "send", "--week", "2026-W47")
    code, out, _ = run(runner, config_file, "status", "--json")
    assert code == 0
    report = json.loads(out)
    assert {k: report[k] for k in ("week", "pending", "sending", "sent", "deferred", "failed")} == {
        "week": "2026-W47", "pending": 0, "sending": 0, "sent": 6, "deferred": 0, "failed": 0}
    code, out, _ = run(runner, config_file, "send", "--week", "2026-W47", "--dry-run", "--json")
    assert (json.loads(out)["recipients"], json.loads(out)["already_sent"]) == (0, 6)


def test_status_before_any_send_says_how_to_start_one(runner: CliRunner, config_file: Path) -> None:
    code, _, err = run(runner, config_file, "status")
    assert code == 1
    assert err.strip() == "error: no issue has been sent yet: `newsletter send` starts one"


def test_send_to_one_address_goes_outside_the_ledger(runner: CliRunner, config_file: Path,
                                                      threaded_smtp_server: SmtpServer, engine: Engine) -> None:
    code, out, _ = run(runner, config_file, "send", "--week", "2026-W47", "--to", "Editor@Example.org")
    assert code == 0
    assert out.strip() == "sent 2026-W47 to one address outside the ledger (outbox)"
    assert len(outbox(config_file)) == 1
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(DeliveryRow)) == 0
    with config_file.open("a") as handle:
        handle.write(f'[smtp]\nhost = "{threaded_smtp_server.host}"\nport = {threaded_smtp_server.port}\n')
    result = runner.invoke(cli, ["--config", str(config_file), "send", "--week", "2026-W47", "--to",
                                 "editor@example.org"], env={"NEWSLETTER_DELIVERY_TRANSPORT": "smtp"})
    assert result.exit_code == 0
    assert threaded_smtp_server.recipients() == {"editor@example.org": 1}


def test_a_week_without_excerpts_sends_nothing_and_says_why(runner: CliRunner, config_file: Path) -> None:
    code, out, _ = run(runner, config_file, "send", "--week", "2026-W40")
    assert code == 0
    assert out.strip() == "no excerpts for 2026-W40: no issue this week (ingest that week's pages first)"
    assert outbox(config_file) == []


def test_erase_deletes_the_readers_ledger_rows_and_their_id_is_never_given_again(
        runner: CliRunner, config_file: Path, engine: Engine) -> None:
    assert run(runner, config_file, "send", "--week", "2026-W47")[0] == 0
    last = READERS[-1]  # the highest id: the one SQLite would hand out again without AUTOINCREMENT
    with Session(engine) as session:
        erased_id = session.scalars(select(func.max(DeliveryRow.subscriber_id))).one()
    code, out, _ = run(runner, config_file, "subscribers", "erase", "--yes", last)
    assert (code, out) == (0, "erased: nothing about this address is kept any more\n")
    with Session(engine) as session:
        left = session.scalars(select(DeliveryRow.subscriber_id)).all()
    assert erased_id not in left
    assert len(left) == len(READERS) - 1
    side = Subscribers(load(config_file, environ={}), engine)
    side.store.add_confirmed(parse("newcomer@example.com"), Consent("import", "test"))
    newcomer = max(side.store.confirmed_addresses(after_id=0))
    assert newcomer > erased_id


@pytest.mark.parametrize(("change", "env", "key"), [
    ({"dkim": {"domain": "news.example.org", "selector": "s1", "key_file": "dkim.pem"}}, {}, "dkim.key_file"),
    ({"dkim": {"domain": "news.example.org", "selector": "s1", "key_file": "missing.pem"}}, {}, "dkim.key_file"),
    ({"newsletter": {"from_address": "jö@news.example.org"}}, {}, "newsletter.from_address"),
    ({}, {"NEWSLETTER_TEMPLATES_DIR": "mine"}, "templates_dir"),
], ids=["dkim-key-not-a-key", "dkim-key-unreadable", "from-address-not-ascii", "template-does-not-compile"])
def test_a_dry_run_stops_on_a_setting_the_real_send_would_die_on(
        runner: CliRunner, config_file: Path, engine: Engine, change: dict[str, dict[str, object]],
        env: dict[str, str], key: str) -> None:
    folder = config_file.parent
    (folder / "dkim.pem").write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    (folder / "mine" / "email").mkdir(parents=True)
    (folder / "mine" / "email" / "confirm.txt").write_text("Confirm: {{ confirm_url }\n")
    path = write_config(folder, str(engine.url.render_as_string(hide_password=False)), **change)
    for args in (["send", "--week", "2026-W47", "--dry-run"], ["send", "--week", "2026-W47"]):
        result = runner.invoke(cli, ["--config", str(path), *args], env=env)
        assert result.exit_code == 2, result.output
        [line] = result.stderr.splitlines()
        assert line.startswith(f"error: config: {key} ")
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(IssueRow)) == 0
    assert outbox(config_file) == []


def test_with_a_bounce_domain_each_message_returns_to_its_own_address_naming_issue_and_reader(
        runner: CliRunner, config_file: Path, threaded_smtp_server: SmtpServer, engine: Engine) -> None:
    with config_file.open("a") as handle:
        handle.write(f'[smtp]\nhost = "{threaded_smtp_server.host}"\nport = {threaded_smtp_server.port}\n'
                     '[bounces]\ndomain = "bounces.news.example.org"\n')
    result = runner.invoke(cli, ["--config", str(config_file), "send", "--week", "2026-W47"],
                           env={"NEWSLETTER_DELIVERY_TRANSPORT": "smtp"})
    assert result.exit_code == 0, result.output
    side = Subscribers(load(config_file, environ={}), engine)
    with Session(engine) as session:
        issue_id = session.scalar(select(IssueRow.id))
    senders = set()
    for message in threaded_smtp_server.received:
        (recipient,) = message.recipients
        subscriber_id = side.store.identify(parse(recipient))
        assert side.returns.read(message.sender).subscriber_id == subscriber_id
        assert side.returns.read(message.sender).issue_id == issue_id
        assert recipient.split("@")[0] not in message.sender
        unsubscribe = message.data.split(b"List-Unsubscribe: ")[1].split(b"\r\nList-")[0].decode()
        mailto = unsubscribe.split("<mailto:")[1].split("?")[0]
        assert side.returns.read(mailto).subscriber_id == subscriber_id
        senders.add(message.sender)
    assert len(senders) == len(READERS) == len(threaded_smtp_server.received)
