"""`newsletter issue ...` and `newsletter send` as the editor's desk has them: held, cancelled and skipped
issues are sent by nobody, and a move the issue cannot make says why and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from newsletter.cli import cli
from newsletter.issues.tables import IssueRow
from tests.conftest import EXAMPLES, write_config
from tests.newsletter.cli.commands import add_readers, run

READERS = [f"reader{n}@example.com" for n in range(3)]
WEEK = "2026-W47"


def newsletter(tmp_path: Path, database_url: str, runner: CliRunner, engine: Engine, mode: str = "auto") -> Path:
    path = write_config(tmp_path, database_url, review={"mode": mode})
    for args in (["init"], ["ingest", str(EXAMPLES / "pages")]):
        assert runner.invoke(cli, ["--config", str(path), *args]).exit_code == 0
    add_readers(path, engine, READERS)
    return path


@pytest.fixture
def config_file(tmp_path: Path, database_url: str, runner: CliRunner, engine: Engine) -> Path:
    return newsletter(tmp_path, database_url, runner, engine)


def sent(config_file: Path) -> int:
    return len(list((config_file.parent / "outbox" / "new").glob("*")))


def show(runner: CliRunner, config_file: Path) -> dict[str, Any]:
    code, out, _ = run(runner, config_file, "issue", "show", "--week", WEEK, "--json")
    assert code == 0
    return dict(json.loads(out))


@pytest.mark.parametrize(("command", "said"), [
    ("hold", "2026-W47 is not sent: it is held; `newsletter issue approve` lets it go (typo)"),
    ("cancel", "2026-W47 is not sent: it was cancelled; a cancelled issue is never sent (typo)"),
    ("skip", "2026-W47 is not sent: this week is skipped; a skipped week has no issue (typo)"),
], ids=["held", "cancelled", "skipped"])
def test_a_held_cancelled_or_skipped_issue_is_not_sent_by_anyone(runner: CliRunner, config_file: Path,
                                                                 engine: Engine, command: str, said: str) -> None:
    assert run(runner, config_file, "issue", command, "--week", WEEK, "--reason", "typo")[:1] == (0,)
    code, _, err = run(runner, config_file, "send", "--week", WEEK)
    assert (code, err.strip()) == (1, f"error: {said}")
    assert sent(config_file) == 0
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(IssueRow)) == 0


def test_a_held_issue_goes_out_once_approved(runner: CliRunner, config_file: Path) -> None:
    run(runner, config_file, "issue", "hold", "--week", WEEK)
    code, out, _ = run(runner, config_file, "issue", "approve", "--week", WEEK, "--reason", "fixed")
    assert code == 0
    assert "2026-W47 approved" in out
    assert run(runner, config_file, "send", "--week", WEEK)[0] == 0
    assert sent(config_file) == len(READERS)
    assert run(runner, config_file, "send", "--week", WEEK)[0] == 0  # nothing left: it stays sent
    report = show(runner, config_file)
    assert report["state"] == "sent"
    assert [e["state"] for e in report["history"]] == ["held", "approved", "sending", "sent"]
    assert report["deliveries"]["sent"] == len(READERS)
    code, out, _ = run(runner, config_file, "status", "--week", WEEK)
    assert "[sent]" in out


@pytest.mark.parametrize(("setup", "args", "said"), [
    (["cancel"], ["approve"], "error: 2026-W47 is cancelled, so it cannot be approved: nothing is left to change"),
    (["send"], ["pause"], "error: 2026-W47 is sent, so it cannot be paused: nothing is left to change"),
    (["hold"], ["resume"], "error: 2026-W47 is held, so it cannot be sending: approve, cancel or skip it"),
    ([], ["approve"], "error: 2026-W47 has no draft yet, so it cannot be approved: `newsletter issue freeze "
                      "--week 2026-W47` makes the draft first"),
], ids=["approve-cancelled", "pause-sent", "resume-held", "approve-undrafted"])
def test_a_move_the_issue_cannot_make_says_why_and_changes_nothing(runner: CliRunner, config_file: Path,
                                                                    setup: list[str], args: list[str],
                                                                    said: str) -> None:
    if setup:
        first = ["send", "--week", WEEK] if setup == ["send"] else ["issue", *setup, "--week", WEEK]
        assert run(runner, config_file, *first)[0] == 0
    before = show(runner, config_file)
    code, out, err = run(runner, config_file, "issue", *args, "--week", WEEK)
    assert (code, out, err.strip()) == (1, "", said)
    assert show(runner, config_file) == before


@pytest.mark.parametrize("week", ["2026-W99", "next week"], ids=["no-such-week", "not-a-week"])
def test_an_unknown_week_is_refused_in_one_line(runner: CliRunner, config_file: Path, week: str) -> None:
    code, _, err = run(runner, config_file, "issue", "hold", "--week", week)
    assert code == 2
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert "2010-W52" in err or "no ISO week 99" in err


def test_in_approve_mode_nothing_is_sent_until_approved(tmp_path: Path, database_url: str, runner: CliRunner,
                                                        engine: Engine) -> None:
    path = newsletter(tmp_path, database_url, runner, engine, mode="approve")
    code, _, err = run(runner, path, "send", "--week", WEEK)
    assert code == 1
    assert '[review] mode is "approve" and it is not drafted yet, not approved' in err
    assert sent(path) == 0
    run(runner, path, "issue", "hold", "--week", WEEK)
    run(runner, path, "issue", "approve", "--week", WEEK)
    assert run(runner, path, "send", "--week", WEEK)[0] == 0
    assert sent(path) == len(READERS)
