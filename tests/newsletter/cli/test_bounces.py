"""`newsletter bounces process` and `stats`, and what `status` and `subscribers erase` make of returned mail."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine

from newsletter.cli import cli
from newsletter.inbound import store
from subscribers.tables import Status
from tests.conftest import Clock
from tests.newsletter.inbound.conftest import READERS, SentIssue, send_issue_to
from tests.newsletter.inbound.returned_mail import arf, dsn, out_of_office, plain_mail

ALICE, BOB, CAROL = READERS[0], READERS[1], READERS[2]


def run(runner: CliRunner, folder: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["--config", str(folder / "newsletter.toml"), *args], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def sent_issue(tmp_path: Path, engine: Engine, database_url: str, clock: Clock) -> SentIssue:
    return send_issue_to(tmp_path, engine, database_url, clock, READERS, bounces={"max_message_bytes": 20_000})


def test_process_reads_an_mbox_and_an_eml_and_acts_on_each_message(
        runner: CliRunner, tmp_path: Path, engine: Engine, database_url: str, clock: Clock) -> None:
    sent = sent_issue(tmp_path, engine, database_url, clock)
    box = mailbox.mbox(tmp_path / "returned.mbox")
    for raw in (dsn(sent.bounce_address(ALICE), ALICE), out_of_office(sent.bounce_address(BOB)),
                arf("fbl@news.example.org", sent.bounce_address(CAROL), sent.unsubscribe_address(CAROL)),
                b"Subject: huge\r\n\r\n" + b"x" * 30_000):
        box.add(raw)
    box.close()
    (tmp_path / "one.eml").write_bytes(plain_mail(sent.unsubscribe_address(BOB)))
    code, out, err = run(runner, tmp_path, "bounces", "process", "--json", str(tmp_path / "returned.mbox"),
                         str(tmp_path / "one.eml"), str(tmp_path / "missing.eml"))
    assert code == 1
    assert json.loads(out) == {"bounced": 1, "auto-reply": 1, "complained": 1, "unsubscribed": 1, "too-large": 1}
    assert "message 4 is larger than bounces.max_message_bytes (20,000): skipped" in err
    assert "missing.eml: cannot be read" in err
    assert [sent.status(r) for r in READERS] == [Status.BOUNCED, Status.UNSUBSCRIBED, Status.COMPLAINED,
                                                Status.CONFIRMED]
    assert (tmp_path / "one.eml").exists()  # the operator's files are left as they are

    code, out, _ = run(runner, tmp_path, "bounces", "process", str(tmp_path / "one.eml"))
    assert (code, out.strip()) == (0, "1 duplicate")
    code, out, _ = run(runner, tmp_path, "status", "--json")
    report = json.loads(out)
    assert (report["bounced"], report["complained"], report["sent"]) == (1, 1, 2)
    assert (report["bounce_rate"], report["complaint_rate"]) == (0.25, 0.25)
    code, out, _ = run(runner, tmp_path, "bounces", "stats", "--json")
    assert json.loads(out)["auto-reply"] == 1


def test_status_shows_the_bounce_and_complaint_rates(runner: CliRunner, tmp_path: Path, engine: Engine,
                                                    database_url: str, clock: Clock) -> None:
    sent = sent_issue(tmp_path, engine, database_url, clock)
    sent.processor.handle(dsn(sent.bounce_address(ALICE), ALICE))
    code, out, _ = run(runner, tmp_path, "status")
    assert code == 0
    assert "  bounced             1\n" in out
    assert "  bounces        25.00%  (1 of 4)\n" in out
    assert "  complaints      0.00%  (0 of 4)\n" in out


def test_erase_forgets_the_readers_returned_mail(runner: CliRunner, tmp_path: Path, engine: Engine,
                                                 database_url: str, clock: Clock) -> None:
    sent = sent_issue(tmp_path, engine, database_url, clock)
    sent.processor.handle(dsn(sent.bounce_address(ALICE), ALICE, status="4.2.2"))
    assert run(runner, tmp_path, "subscribers", "erase", "--yes", ALICE)[0] == 0
    with sent.sessions() as session:
        assert store.soft_bounces(session, sent.ids[ALICE], clock.now.replace(year=2000)) == 0


def test_process_without_a_bounce_domain_says_what_to_set(runner: CliRunner, config_path: Path, tmp_path: Path
                                                          ) -> None:
    (tmp_path / "one.eml").write_bytes(b"Subject: x\r\n\r\nx\r\n")
    assert run(runner, tmp_path, "init")[0] == 0
    code, _, err = run(runner, tmp_path, "bounces", "process", str(tmp_path / "one.eml"))
    assert code == 2
    assert err.strip() == ("error: config: bounces.domain is empty: set it to the domain of the return "
                           "addresses first")
