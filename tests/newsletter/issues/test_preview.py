"""`newsletter preview`: the week's issue written as HTML, text and a complete .eml, from the database."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import insert
from sqlalchemy.orm import Session

from newsletter.cli.app import App
from newsletter.cli.preview import preview
from newsletter.content import store as excerpt_store
from newsletter.content.excerpt import Excerpt
from newsletter.content.tables import ExcerptRow
from newsletter.db.engine import connect
from newsletter.db.migrate import migrate
from newsletter.issues.render import PLACEHOLDER_PREFIX
from newsletter.issues.tables import IssueExcerptRow, IssueRow
from newsletter.weeks import IsoWeek
from tests.conftest import write_config

UNSUBSCRIBE = "https://news.example.org/unsubscribe?token=preview"


@pytest.fixture
def config_path(tmp_path: Path, sqlite_url: str, excerpts: list[Excerpt]) -> Path:
    """A migrated database holding the sample week, and a config file pointing at it."""
    engine = connect(sqlite_url)
    migrate(engine)
    with Session(engine) as session, session.begin():
        excerpt_store.add(session, excerpts)
    engine.dispose()
    return write_config(tmp_path, sqlite_url)


def run(runner: CliRunner, config_path: Path, *args: str) -> Result:
    app = App(config_path)
    try:
        return runner.invoke(preview, list(args), obj=app)
    finally:
        app.close()


def test_preview_writes_the_three_files_and_prints_their_paths_and_sizes(
    runner: CliRunner, config_path: Path, tmp_path: Path,
) -> None:
    out = tmp_path / "preview"
    result = run(runner, config_path, "--week", "2026-W47", "--out", str(out))
    assert result.exit_code == 0, result.output
    sizes = {name: (out / name).stat().st_size for name in ("issue.html", "issue.txt", "issue.eml")}
    assert result.output.splitlines() == [
        "2026-W47: 5 excerpts, 409 words",
        "subject: Weekly Lessons — week of 16 November 2026",
        *(f"wrote {out / name}  ({size:,} bytes)" for name, size in sizes.items()),
        f"open {out / 'issue.html'} in a browser to see the email",
    ]


def test_the_preview_message_is_complete_for_a_sample_recipient(
    runner: CliRunner, config_path: Path, tmp_path: Path,
) -> None:
    run(runner, config_path, "--week", "2026-W47", "--out", str(tmp_path))
    message = email.message_from_bytes((tmp_path / "issue.eml").read_bytes(), policy=email.policy.default)
    assert [defect for part in message.walk() for defect in part.defects] == []
    assert message["To"] == "reader@example.com"
    assert message["List-Unsubscribe"] == (
        f"<{UNSUBSCRIBE}>, <mailto:letters@news.example.org?subject=unsubscribe>"
    )
    assert message["List-Id"] == "Weekly Lessons <weekly.news.example.org>"


def test_the_preview_pages_show_the_sample_values_not_placeholders(
    runner: CliRunner, config_path: Path, tmp_path: Path,
) -> None:
    run(runner, config_path, "--week", "2026-W47", "--out", str(tmp_path))
    html = (tmp_path / "issue.html").read_text(encoding="utf-8")
    text = (tmp_path / "issue.txt").read_text(encoding="utf-8")
    for page in (html, text):
        assert PLACEHOLDER_PREFIX not in page
    assert f'href="{UNSUBSCRIBE}"' in html
    assert UNSUBSCRIBE in text.splitlines()


def test_the_preview_is_signed_when_dkim_is_configured(
    runner: CliRunner, config_path: Path, tmp_path: Path,
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "dkim.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with config_path.open("a", encoding="utf-8") as config:
        config.write('[dkim]\ndomain = "news.example.org"\nselector = "weekly"\nkey_file = "dkim.pem"\n')
    result = run(runner, config_path, "--week", "2026-W47", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "issue.eml").read_bytes().startswith(b"DKIM-Signature: v=1; a=rsa-sha256;")


def test_an_empty_week_says_there_is_nothing_to_preview_and_writes_nothing(
    runner: CliRunner, config_path: Path, tmp_path: Path,
) -> None:
    out = tmp_path / "empty"
    result = run(runner, config_path, "--week", "2026-W48", "--out", str(out))
    assert result.exit_code == 0
    assert result.output == (
        "no excerpts for 2026-W48: nothing to preview (ingest that week's pages first)\n"
    )
    assert not out.exists()


def test_a_week_whose_excerpts_were_all_sent_says_why_each_was_left_out(
    runner: CliRunner, config_path: Path, tmp_path: Path, sqlite_url: str, excerpts: list[Excerpt],
) -> None:
    engine = connect(sqlite_url)
    with Session(engine) as session, session.begin():
        issue_id = session.execute(insert(IssueRow).values(week="2026-W46", subject="s")
                                   .returning(IssueRow.id)).scalar_one()
        for position, row_id in enumerate(session.query(ExcerptRow.id).order_by(ExcerptRow.id)):
            session.execute(insert(IssueExcerptRow).values(issue_id=issue_id, excerpt_id=row_id[0],
                                                           position=position))
    engine.dispose()
    result = run(runner, config_path, "--week", "2026-W47", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "no excerpts for 2026-W47 can go in an issue: nothing to preview",
        *(f"  {e.title!r}: already sent in an earlier issue" for e in excerpts),
    ]


def test_the_default_week_is_the_last_complete_one(runner: CliRunner, config_path: Path,
                                                   tmp_path: Path) -> None:
    result = run(runner, config_path, "--out", str(tmp_path / "out"))
    week = IsoWeek.last_complete(date.today())
    first_line = result.output.splitlines()[0]
    assert first_line.startswith((f"{week}: ", f"no excerpts for {week}: nothing to preview"))


def test_a_malformed_week_is_a_usage_error(runner: CliRunner, config_path: Path) -> None:
    result = run(runner, config_path, "--week", "soon")
    assert result.exit_code == 2
    assert re.search(r"Invalid value for --week: week must look like 2010-W52 \(got 'soon'\)", result.output)
