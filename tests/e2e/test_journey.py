"""The whole journey, end to end, against real parts only.

`newsletter run` runs as a subprocess on a temporary SQLite database, sending through a real SMTP server
(aiosmtpd in a thread). A reader signs up in Debian's Chromium and confirms from the email. The weekly
send is started by the scheduler itself, on the production cron ("0 7 * * mon", Europe/London): each
`newsletter run` starts under libfaketime with its clock set a few seconds before a Monday 07:00, so
the real cron fires, for two Mondays in a row, without a test hook in the product and without waiting
a week. On the first Monday the reader gets exactly one issue with that week's titles, opens it in the
browser, and leaves with the one-click POST of its List-Unsubscribe header; on the next Monday the
next issue goes out to the other subscriber only.
"""

from __future__ import annotations

import email
import email.policy
import glob
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import lxml.html
import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine

from newsletter.config import settings
from newsletter.config.settings import Config
from newsletter.db.engine import connect, sessions
from newsletter.delivery import ledger
from newsletter.delivery.tables import FINAL_STATES
from newsletter.issues import store as issues
from newsletter.weeks import IsoWeek
from subscribers.addresses import parse
from subscribers.side import Subscribers
from subscribers.tables import Status
from tests.conftest import EXAMPLES
from tests.e2e.conftest import serious_violations
from tests.newsletter.cli.service_process import ServiceProcess, newsletter
from tests.newsletter.smtp_server import Received, SmtpServer, serve_in_thread
from tests.processes import free_port, wait_for
from tests.subscribers.test_worker import confirm_token

pytestmark = pytest.mark.slow
READER = "new.reader@example.org"
FRIEND = "long.time.reader@example.org"
W47, W48 = IsoWeek(2026, 47), IsoWeek(2026, 48)
# Clocks of the three `newsletter run`s (UTC, which is also London's time in November).
SUNDAY_EVENING = "2026-11-22 18:00:00"
MONDAY_AFTER_W47 = "2026-11-23 06:59:56"
MONDAY_AFTER_W48 = "2026-11-30 06:59:56"
DRAIN_SECONDS = 5
LIBFAKETIME = "/usr/lib/*/faketime/libfaketimeMT.so.1"

# Two daily pages of the week after the examples (our own words, in the shape of the real pages).
W48_PAGES = {
    "2026-11-23.txt": """Daily Study Lesson


The Daily Page - 23-11-26

The Daily Page is a collection of excerpts taken from the daily study lesson with Dr. Miriam Adler and the \
Lantern Hill Study Circle

The Bread That Keeps


A loaf baked for one meal is eaten and forgotten. A loaf baked to be shared keeps longer than any other, \
because each person who takes a piece remembers who handed it to him.

Question: Why does the same lesson feel different when I read it alone at night?

Dr. Adler's Answer: Because at night you read it for yourself. In the morning, at the table, you read it \
for the others as well, and the words have more room to land.


From the 1st part of the Daily Study Lesson 11/23/26, Letters of the Circle


Study Newsletter

Privacy: Your email address will never be rented, traded or sold.
""",
    "2026-11-24.txt": """Daily Study Lesson


The Daily Page - 24-11-26

The Daily Page is a collection of excerpts taken from the daily study lesson with Dr. Miriam Adler and the \
Lantern Hill Study Circle

A Map Drawn by Many Hands


No single traveller can draw the whole valley. One knows the river, another the old road, a third the \
place where the bridge washed away last spring. Put their sketches together and the map is better than \
any of them could make.

A group studies the same way. Each one brings the corner he has walked, and nobody has to pretend he has \
seen everything.


From the 2nd part of the Daily Study Lesson 11/24/26, Notes on Attention


About the Circle

The Lantern Hill Study Circle is a small group of volunteers who meet every morning.
""",
}


class Journey:
    """The operator's side: one config file, one database, one SMTP server, `newsletter` commands."""

    def __init__(self, folder: Path, smtp: SmtpServer) -> None:
        self.folder = folder
        self.smtp = smtp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = self._write_config()
        self.runs = 0

    def _write_config(self) -> Path:
        pages = self.folder / "w48-pages"
        pages.mkdir()
        for name, text in W48_PAGES.items():
            (pages / name).write_text(text, encoding="utf-8")
        path = self.folder / "newsletter.toml"
        path.write_text(f"""
[newsletter]
title = "Weekly Lessons"
from_address = "letters@news.example.org"
list_id = "weekly.news.example.org"

[database]
url = "sqlite:///{self.folder / 'newsletter.db'}"

[delivery]
transport = "smtp"
drain_seconds = {DRAIN_SECONDS}

[smtp]
host = "{self.smtp.host}"
port = {self.smtp.port}

[web]
base_url = "{self.url}"

[schedule]
cron = "0 7 * * mon"
timezone = "Europe/London"
ingest = ["{EXAMPLES / 'pages'}", "{pages}"]
""", encoding="utf-8")
        return path

    @property
    def config(self) -> Config:
        return settings.load(self.config_path, environ={})

    def command(self, *args: str) -> None:
        """Run one `newsletter` command to its end (under the real clock)."""
        done = newsletter(self.config_path, *args)
        assert done.returncode == 0, done.stdout + done.stderr

    @contextmanager
    def running(self, clock: str) -> Iterator[ServiceProcess]:
        """`newsletter run` with its clock starting at `clock`; stopped with SIGTERM, which must exit 0."""
        libraries = glob.glob(LIBFAKETIME)
        if not libraries:
            pytest.fail("libfaketime is missing: install the Debian package faketime (scripts/test does)")
        library = libraries[0]
        self.runs += 1
        service = ServiceProcess(self.config_path, self.port, log_name=f"run{self.runs}.log",
                                 env={"LD_PRELOAD": library, "FAKETIME": f"@{clock}"})
        try:
            service.wait_until_serving()
            yield service
            assert service.stop(signal.SIGTERM) == 0, service.log()
            assert service.exit_seconds < DRAIN_SECONDS
        finally:
            service.kill()
            log = service.log()
            assert READER not in log  # addresses are never logged
            assert FRIEND not in log

    def issue_sent(self, engine: Engine, week: IsoWeek) -> bool:
        """Whether the week's issue exists and every one of its recipients has a final state."""
        with sessions(engine)() as session:
            issue = issues.find(session, week)
            if issue is None:
                return False
            counts = ledger.counts(session, issue.id)
        return sum(n for state, n in counts.items() if state not in FINAL_STATES) == 0

    def mail_to(self, address: str) -> list[Received]:
        return [mail for mail in self.smtp.received if mail.recipients == (address,)]


def test_sign_up_receive_one_weekly_issue_and_leave_with_one_click(tmp_path: Path, browser: Browser,
                                                                   artifacts: Path) -> None:
    with serve_in_thread() as smtp:
        journey = Journey(tmp_path, smtp)
        journey.command("init")
        note = tmp_path / "friend.txt"
        note.write_text(FRIEND + "\n", encoding="utf-8")
        journey.command("subscribers", "import", str(note), "--confirmed", "--consent-note", "signed up on paper")
        engine = connect(journey.config.database_url)
        context = browser.new_context(bypass_csp=True)  # so axe-core can be injected to check the pages
        page = context.new_page()
        try:
            sign_up_and_confirm(journey, page)
            first_monday(journey, engine, page, artifacts)
            next_monday(journey, engine)
        finally:
            context.close()
            engine.dispose()


def sign_up_and_confirm(journey: Journey, page: Page) -> None:
    """Sunday evening: a new reader signs up in the browser and confirms from the email."""
    with journey.running(SUNDAY_EVENING):
        page.goto(journey.url + "/")
        page.get_by_label("Your email address").fill(READER)
        page.get_by_role("button", name="Subscribe").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Check your inbox"
        wait_for(lambda: journey.mail_to(READER), "the confirmation email")
        [confirmation] = journey.mail_to(READER)
        page.goto(f"{journey.url}/confirm?token={confirm_token(confirmation.data)}")
        page.get_by_role("button", name="Confirm my subscription").click()
        assert page.get_by_role("heading", level=1).inner_text() == "You are subscribed"
    assert journey.smtp.recipients() == {READER: 1}  # the confirmation, and no issue yet


def first_monday(journey: Journey, engine: Engine, page: Page, artifacts: Path) -> None:
    """Monday 07:00: the scheduler sends 2026-W47; the reader reads it, opens it on the web, and leaves."""
    with journey.running(MONDAY_AFTER_W47) as service:
        wait_for(lambda: journey.issue_sent(engine, W47), "the 07:00 send of 2026-W47")
        with sessions(engine)() as session:
            issue = issues.find(session, W47)
            assert issue is not None
            titles = [excerpt.title for excerpt in issues.excerpts_of(session, issue.id)]
        assert "scheduled=2026-11-23T07:00:00+00:00" in service.log()
        [_, issue_mail] = journey.mail_to(READER)
        assert len(journey.mail_to(FRIEND)) == 1
        message = email.message_from_bytes(issue_mail.data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        html_part = message.get_body(("html",))
        assert html_part is not None
        html = lxml.html.fromstring(html_part.get_content())
        assert titles  # the example pages of 16-22 November, chosen by the selection rules
        assert all(title in str(html.xpath("string()")) for title in titles)

        web_link = str(html.xpath("string(//a[normalize-space()='Open this issue in your browser']/@href)"))
        assert web_link == f"{journey.url}/issues/2026-W47"
        page.goto(web_link)
        assert page.locator("h2").all_inner_texts() == titles
        assert READER not in page.content()
        assert serious_violations(page) == []
        page.screenshot(path=str(artifacts / "archive-issue.png"), full_page=True)

        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        [one_click] = re.findall(r"<(https?://[^>]+)>", message["List-Unsubscribe"])
        answer = page.request.post(one_click, form={"List-Unsubscribe": "One-Click"}, max_redirects=0)
        assert answer.status == 200
        assert Subscribers(journey.config, engine).store.lookup(parse(READER)) is Status.UNSUBSCRIBED
    assert journey.smtp.recipients() == {READER: 2, FRIEND: 1}  # the confirmation and exactly one issue


def next_monday(journey: Journey, engine: Engine) -> None:
    """A week later the scheduler sends 2026-W48: to the friend, and nothing to the reader who left."""
    with journey.running(MONDAY_AFTER_W48):
        wait_for(lambda: journey.issue_sent(engine, W48), "the 07:00 send of 2026-W48")
    assert journey.smtp.recipients() == {READER: 2, FRIEND: 2}
    [_, w48] = journey.mail_to(FRIEND)
    message = email.message_from_bytes(w48.data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    text = message.get_body(("plain",))
    assert text is not None
    assert "The Bread That Keeps" in text.get_content()
    assert "A Map Drawn by Many Hands" in text.get_content()
