"""The editor's desk, end to end: `newsletter run` under libfaketime freezes the week at 05:00 and mails the
proof to a reviewer (aiosmtpd); the reviewer acts on it in Chromium; the 07:00 send obeys; the issue goes
out exactly once, with the editor's note and the pinned excerpt. Once in auto mode (held, then approved
from the command line) and once in approve mode (nothing goes out until the reviewer approves).
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from newsletter.db.engine import connect
from tests.conftest import EXAMPLES
from tests.e2e.test_journey import FRIEND, W47, Journey
from tests.newsletter.smtp_server import SmtpServer, serve_in_thread
from tests.processes import wait_for

pytestmark = pytest.mark.slow
EDITOR = "editor@news.example.org"
LISTEN = "bb095c1b"  # "Why Do We Listen Badly?": left out by per_day unless pinned
NOTE = "A *short* week: the circle rests on Thursday."
FREEZE_TIME = "2026-11-23 04:59:56"   # [review] freeze = "0 5 * * mon"
SEND_TIME = "2026-11-23 06:59:56"     # [schedule] cron = "0 7 * * mon"
AFTER_APPROVAL = "2026-11-23 07:20:00"


class DeskJourney(Journey):
    """The journey's operator, with a reviewer and a freeze before the send."""

    def __init__(self, folder: Path, smtp: SmtpServer, mode: str) -> None:
        self.mode = mode
        super().__init__(folder, smtp)

    def _write_config(self) -> Path:
        path = super()._write_config()
        text = path.read_text(encoding="utf-8").replace("ingest = [", "ingest_was = [")
        text = re.sub(r"ingest_was = \[.*\]\n", "", text)
        path.write_text(text + f'\n[review]\nmode = "{self.mode}"\nfreeze = "0 5 * * mon"\n'
                               f'reviewers = ["{EDITOR}"]\n', encoding="utf-8")
        return path

    def prepare_week(self) -> None:
        """The list, the week's pages, the editor's pin and note: everything before Monday."""
        self.command("init")
        self.command("ingest", str(EXAMPLES / "pages"))
        friends = self.folder / "friend.txt"
        friends.write_text(FRIEND + "\n", encoding="utf-8")
        self.command("subscribers", "import", str(friends), "--confirmed", "--consent-note", "on paper")
        self.command("excerpts", "pin", "--week", str(W47), LISTEN)
        note = self.folder / "note.md"
        note.write_text(NOTE + "\n", encoding="utf-8")
        self.command("issue", "note", "--week", str(W47), "--file", str(note))

    def mail(self, address: str) -> list[EmailMessage]:
        found = []
        for received in self.mail_to(address):
            message = email.message_from_bytes(received.data, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            found.append(message)
        return found


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def review_link(proof: EmailMessage, action: str) -> str:
    found = re.search(rf"(http://127\.0\.0\.1:\d+/review/{action}\?token=\S+)", text_of(proof))
    assert found is not None
    return found[1]


def click(page: Page, link: str, button: str) -> str:
    """Open a proof's link, look (nothing happens), press its button; the heading of the answer."""
    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == f"{button} {W47}"
    page.get_by_role("button", name=button).click()
    return page.get_by_role("heading", level=1).inner_text()


def the_issue_went_out_once_with_the_editors_choices(journey: DeskJourney) -> None:
    [issue] = journey.mail(FRIEND)
    text = text_of(issue)
    assert "Why Do We Listen Badly?" in text
    assert "A *short* week: the circle rests on Thursday." in text
    html = issue.get_body(("html",))
    assert html is not None
    assert "A <em>short</em> week: the circle rests on Thursday." in str(html.get_content())


def test_auto_mode_a_held_draft_is_not_sent_until_approved_then_once(tmp_path: Path, browser: Browser) -> None:
    with serve_in_thread() as smtp:
        journey = DeskJourney(tmp_path, smtp, "auto")
        journey.prepare_week()
        page = browser.new_context().new_page()
        with journey.running(FREEZE_TIME):
            wait_for(lambda: journey.mail(EDITOR), "the proof of 2026-W47")
            [proof] = journey.mail(EDITOR)
            assert "Why Do We Listen Badly?" in str(proof)
            assert click(page, review_link(proof, "hold"), "Hold") == f"{W47} is held"
        with journey.running(SEND_TIME) as service:
            wait_for(lambda: "2026-W47 is not sent: it is held" in service.log(), "the 07:00 send to refuse")
        assert journey.mail(FRIEND) == []
        journey.command("issue", "approve", "--week", str(W47), "--reason", "the link is fixed")
        engine = connect(journey.config.database_url)
        try:
            with journey.running(AFTER_APPROVAL):
                wait_for(lambda: journey.issue_sent(engine, W47), "the approved issue to go out")
        finally:
            engine.dispose()
        the_issue_went_out_once_with_the_editors_choices(journey)
        assert sorted(smtp.recipients()) == [EDITOR, FRIEND]
        assert smtp.recipients()[FRIEND] == 1


def test_approve_mode_nothing_is_sent_until_the_reviewer_approves(tmp_path: Path, browser: Browser) -> None:
    with serve_in_thread() as smtp:
        journey = DeskJourney(tmp_path, smtp, "approve")
        journey.prepare_week()
        page = browser.new_context().new_page()
        with journey.running(FREEZE_TIME):
            wait_for(lambda: journey.mail(EDITOR), "the proof of 2026-W47")
        [proof] = journey.mail(EDITOR)
        with journey.running(SEND_TIME) as service:
            wait_for(lambda: len(journey.mail(EDITOR)) == 2, "the reviewers' reminder")
            assert journey.mail(EDITOR)[1]["Subject"] == "Waiting for approval: 2026-W47"
            assert "and it is draft, not approved" in service.log()
            assert journey.mail(FRIEND) == []
            assert click(page, review_link(proof, "approve"), "Approve") == f"{W47} is approved"
        engine = connect(journey.config.database_url)
        try:
            with journey.running(AFTER_APPROVAL):
                wait_for(lambda: journey.issue_sent(engine, W47), "the approved issue to go out")
        finally:
            engine.dispose()
        the_issue_went_out_once_with_the_editors_choices(journey)
        assert smtp.recipients()[FRIEND] == 1
