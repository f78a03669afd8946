"""The editor's desk before the send: freeze and proof, pins, exclusions, order, a note and a subject, and
the proof's Approve and Hold pages. Mail goes to the outbox folder; the pages are served by the real app."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from newsletter.cli import cli
from newsletter.config.settings import load
from newsletter.db.schema import utcnow
from newsletter.service.review_pages import ReviewPages
from subscribers.pages import Pages
from subscribers.side import Subscribers
from tests.conftest import EXAMPLES, write_config
from tests.newsletter.cli.commands import add_readers, run
from tests.newsletter.cli.test_issue import show

WEEK = "2026-W47"
EDITOR = "editor@news.example.org"
LISTEN = "bb095c1b"  # "Why Do We Listen Badly?": dropped by per_day unless pinned
LAMP = "6fb6c1a3"    # "The Lamp in the Kitchen": kept by the policy
READERS = ["reader0@example.com", "reader1@example.com"]


@pytest.fixture
def config_file(tmp_path: Path, database_url: str, runner: CliRunner, engine: Engine) -> Path:
    path = write_config(tmp_path, database_url, review={"reviewers": [EDITOR], "link_hours": 2})
    other_week = tmp_path / "pages"
    other_week.mkdir()
    page = (EXAMPLES / "pages" / "2026-11-16.txt").read_text(encoding="utf-8")
    (other_week / "2026-11-09.txt").write_text(page.replace("16-11-26", "09-11-26").replace("11/16/26", "11/09/26")
                                               .replace("The Lamp in the Kitchen", "The Lamp in the Hall"))
    for args in (["init"], ["ingest", str(EXAMPLES / "pages")], ["ingest", str(other_week)]):
        assert runner.invoke(cli, ["--config", str(path), *args]).exit_code == 0
    add_readers(path, engine, READERS)
    return path


def mail(config_file: Path, to: str) -> list[EmailMessage]:
    found = []
    for path in sorted((config_file.parent / "outbox" / "new").glob("*"), key=lambda p: p.stat().st_mtime_ns):
        message = email.message_from_bytes(path.read_bytes(), policy=default)
        assert isinstance(message, EmailMessage)
        if message["To"] == to:
            found.append(message)
    return found


def reader_copy(proof: EmailMessage) -> EmailMessage:
    attached = [part for part in proof.iter_attachments() if part.get_content_type() == "message/rfc822"]
    assert len(attached) == 1
    inner = attached[0].get_content()
    assert isinstance(inner, EmailMessage)
    return inner


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_freeze_makes_the_draft_and_mails_the_reviewers_a_proof(runner: CliRunner, config_file: Path) -> None:
    code, out, _ = run(runner, config_file, "issue", "freeze", "--week", WEEK)
    assert code == 0, out
    assert "proof sent to 1 reviewer(s)" in out
    assert show(runner, config_file)["state"] == "draft"
    [proof] = mail(config_file, EDITOR)
    report = text_of(proof)
    assert "Recipients: 2 confirmed reader(s) now" in report
    assert "Check unsubscribe_link: ok" in report
    assert re.search(r"Approve: https://news\.example\.org/review/approve\?token=\S+", report)
    inner = reader_copy(proof)
    assert inner["Subject"] == proof["Subject"].removeprefix("Proof: ")
    assert "The Lamp in the Kitchen" in text_of(inner)
    assert mail(config_file, READERS[0]) == []


def test_the_sent_issue_carries_the_editors_note_subject_and_pinned_excerpt(runner: CliRunner, config_file: Path,
                                                                          tmp_path: Path) -> None:
    note = tmp_path / "note.md"
    note.write_text("A *short* week: we rest on Thursday.\n", encoding="utf-8")
    assert run(runner, config_file, "issue", "freeze", "--week", WEEK)[0] == 0
    for args in (["excerpts", "pin", "--week", WEEK, LISTEN], ["excerpts", "exclude", "--week", WEEK, LAMP],
                 ["issue", "note", "--week", WEEK, "--file", str(note), "--subject", "Listening, this week"]):
        code, out, err = run(runner, config_file, *args)
        assert code == 0, err
        assert "the draft was made again" in out
    proofs = mail(config_file, EDITOR)
    assert len(proofs) == 4  # the freeze, then one per change
    code, out, _ = run(runner, config_file, "excerpts", "--week", WEEK)
    assert "pinned by the editor" in out
    assert "excluded by the editor" in out
    assert run(runner, config_file, "send", "--week", WEEK)[0] == 0
    [issue] = mail(config_file, READERS[0])
    assert issue["Subject"] == "Listening, this week"
    html = issue.get_body(("html",))
    assert html is not None
    assert "A <em>short</em> week: we rest on Thursday." in str(html.get_content())
    assert "A *short* week: we rest on Thursday." in text_of(issue)
    assert "Why Do We Listen Badly?" in text_of(issue)
    assert "The Lamp in the Kitchen" not in text_of(issue)


@pytest.mark.parametrize(("args", "said"), [
    (["excerpts", "pin", "--week", WEEK, "db8bbd9b"], "no excerpt has the key db8bbd9b"),
    (["excerpts", "pin", "--week", WEEK, "lamp"], "'lamp' is not an excerpt key"),
    (["excerpts", "pin", "--week", "2026-W46", LISTEN], f"excerpt {LISTEN} is dated 2026-11-16 (2026-W47), not in "
                                                         "2026-W46: an issue carries its own week's excerpts only"),
    (["issue", "note", "--week", WEEK, "--subject", "two\nlines"], "the subject must be one line"),
], ids=["unknown-key", "not-a-key", "another-week", "two-line-subject"])
def test_an_edit_that_cannot_be_taken_says_why_and_changes_nothing(runner: CliRunner, config_file: Path,
                                                                   args: list[str], said: str) -> None:
    assert run(runner, config_file, "issue", "freeze", "--week", WEEK)[0] == 0
    before = run(runner, config_file, "excerpts", "--week", WEEK, "--json")[1]
    code, out, err = run(runner, config_file, *args)
    assert (code, out) == (1, "")
    assert err.startswith(f"error: {said}")
    assert run(runner, config_file, "excerpts", "--week", WEEK, "--json")[1] == before
    assert len(mail(config_file, EDITOR)) == 1


def test_a_note_with_script_is_refused_and_nothing_is_stored(runner: CliRunner, config_file: Path,
                                                            tmp_path: Path) -> None:
    note = tmp_path / "note.md"
    note.write_text("Hello <script>alert(1)</script>\n", encoding="utf-8")
    code, _, err = run(runner, config_file, "issue", "note", "--week", WEEK, "--file", str(note))
    assert code == 1
    assert err == ("error: the note holds <script>; a note is Markdown only (emphasis, links, lists, quotes): "
                   "take the HTML out\n")
    assert run(runner, config_file, "send", "--week", WEEK)[0] == 0
    assert "alert" not in text_of(mail(config_file, READERS[0])[0])


def test_after_the_send_starts_nothing_changes_its_content(runner: CliRunner, config_file: Path) -> None:
    assert run(runner, config_file, "send", "--week", WEEK)[0] == 0
    code, _, err = run(runner, config_file, "excerpts", "pin", "--week", WEEK, LISTEN)
    assert code == 1
    assert "2026-W47 is sent: once its send has started (or it was cancelled or skipped) its content cannot" in err


def review_client(config_file: Path, engine: Engine, hours_later: float = 0) -> TestClient:
    config = load(config_file, environ={})
    side = Subscribers(config, engine)
    pages = ReviewPages(config, engine, side.signer, Pages(config, side.signer, side.now),
                        now=lambda: utcnow() + timedelta(hours=hours_later))
    return TestClient(Starlette(routes=pages.routes()), follow_redirects=False)


def link(proof: EmailMessage, action: str) -> str:
    found = re.search(rf"https://news\.example\.org(/review/{action}\?token=\S+)", text_of(proof))
    assert found is not None
    return found[1]


def token(url: str) -> str:
    return url.split("token=", 1)[1]


def test_a_proof_link_shows_a_page_and_only_its_button_acts(runner: CliRunner, config_file: Path,
                                                            engine: Engine) -> None:
    run(runner, config_file, "issue", "freeze", "--week", WEEK)
    hold = link(mail(config_file, EDITOR)[0], "hold")
    client = review_client(config_file, engine)
    page = client.get(hold)
    assert page.status_code == 200
    assert "Hold 2026-W47" in page.text
    assert show(runner, config_file)["state"] == "draft"
    done = client.post("/review/hold", data={"token": token(hold)})
    assert done.status_code == 200
    assert "2026-W47 is held" in done.text
    report: dict[str, Any] = show(runner, config_file)
    assert (report["state"], report["changed_by"]) == ("held", "reviewer (proof link)")


@pytest.mark.parametrize(("case", "status", "said"), [
    ("forged", 400, "This link is not valid: it was changed or was not made by this newsletter."),
    ("expired", 400, "This link has expired."),
    ("out-of-date", 409, "This proof is out of date: the draft changed after it was sent."),
    ("cancelled", 409, "2026-W47 is cancelled, so it cannot be approved"),
], ids=["forged", "expired", "out-of-date", "cancelled"])
def test_a_bad_proof_link_says_why_and_changes_nothing(runner: CliRunner, config_file: Path, engine: Engine,
                                                       case: str, status: int, said: str) -> None:
    run(runner, config_file, "issue", "freeze", "--week", WEEK)
    approve = token(link(mail(config_file, EDITOR)[0], "approve"))
    if case == "forged":
        approve = approve[:-2] + ("AA" if not approve.endswith("AA") else "BB")
    if case == "out-of-date":
        assert run(runner, config_file, "excerpts", "pin", "--week", WEEK, LISTEN)[0] == 0
    if case == "cancelled":
        assert run(runner, config_file, "issue", "cancel", "--week", WEEK)[0] == 0
    before = show(runner, config_file)
    client = review_client(config_file, engine, hours_later=3 if case == "expired" else 0)
    answer = client.post("/review/approve", data={"token": approve})
    assert answer.status_code == status
    assert said in answer.text.replace("&#39;", "'")
    assert show(runner, config_file) == before
