"""The reader's own page, end to end: `newsletter run` under libfaketime on three Mondays in a row, a real
SMTP server, and Debian's Chromium.

A reader pauses for one week from the "Manage your subscription" link of the 2026-W47 issue: the W48
send skips them and the W49 send includes them again, by itself. Then they download what is kept (the
file holds their address and history, nobody else's) and delete everything: their ledger rows are gone,
and a dump of the SQLite file and its WAL holds neither their address in any spelling nor its blind index.
Another reader changes address from the W47 issue: the old address still gets W48, the new one confirms
from its email, and W49 goes to the new address only. axe-core checks the pages on the way.
"""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import lxml.html
import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine, func, select

from newsletter.db.engine import connect, sessions
from newsletter.delivery.tables import DeliveryRow
from newsletter.weeks import IsoWeek
from subscribers.addresses import parse
from subscribers.side import Subscribers
from tests.e2e.conftest import serious_violations
from tests.e2e.test_journey import FRIEND, MONDAY_AFTER_W47, MONDAY_AFTER_W48, Journey
from tests.newsletter.smtp_server import serve_in_thread
from tests.processes import wait_for
from tests.subscribers.test_address_change import CHANGE_LINK
from tests.subscribers.test_privacy import encodings, forms
from tests.subscribers.test_worker import confirm_token

pytestmark = pytest.mark.slow
READER = "pausing.reader@example.org"
MOVED = "moved.reader@example.net"
W47, W48, W49 = IsoWeek(2026, 47), IsoWeek(2026, 48), IsoWeek(2026, 49)
MONDAY_AFTER_W49 = "2026-12-07 06:59:56"

CIRCLE = ("The Daily Page is a collection of excerpts taken from the daily study lesson with Dr. Miriam Adler "
          "and the Lantern Hill Study Circle")


def daily_page(day: str, title: str, body: str, source: str) -> str:
    """A daily page in the shape of the real ones (our own words): chrome, one excerpt, its source line."""
    return (f"Daily Study Lesson\n\n\nThe Daily Page - {day}\n\n{CIRCLE}\n\n{title}\n\n\n{body}\n\n\n"
            f"From {source}\n\n\nStudy Newsletter\n\nPrivacy: Your email address will never be rented, "
            "traded or sold.\n")


W49_PAGES = {
    "2026-11-30.txt": daily_page(
        "30-11-26", "The Lamp in the Window",
        "A lamp left in the window is not lit for the people inside the house. It is lit for whoever is still "
        "on the road, so that the last stretch in the dark is shorter.",
        "the 1st part of the Daily Study Lesson 11/30/26, Letters of the Circle"),
    "2026-12-01.txt": daily_page(
        "01-12-26", "Two Oars",
        "A boat with one oar turns in circles however hard the rower pulls. With two, even a tired pair of "
        "arms brings it across the lake.\n\nQuestion: And if the other rower stops?\n\n"
        "Dr. Adler's Answer: Then you row slower, and you keep his place on the bench.",
        "the 2nd part of the Daily Study Lesson 12/1/26, Notes on Attention"),
}


class ReaderJourney(Journey):
    """The operator's side of test_journey, with a third week of pages to ingest."""

    def _write_config(self) -> Path:
        path = super()._write_config()
        pages = self.folder / "w49-pages"
        pages.mkdir()
        for name, text in W49_PAGES.items():
            (pages / name).write_text(text, encoding="utf-8")
        config = path.read_text(encoding="utf-8").replace('ingest = ["', f'ingest = ["{pages}", "', 1)
        path.write_text(config, encoding="utf-8")
        return path

    def import_confirmed(self, *addresses: str) -> None:
        """Readers who consented elsewhere, confirmed at once (`subscribers import --confirmed`)."""
        readers = self.folder / "readers.txt"
        readers.write_text("".join(f"{address}\n" for address in addresses), encoding="utf-8")
        self.command("subscribers", "import", str(readers), "--confirmed", "--consent-note", "on paper")


@pytest.fixture
def journey(tmp_path: Path) -> Iterator[ReaderJourney]:
    """Two confirmed readers (they consented on paper), and a real SMTP server that receives everything."""
    with serve_in_thread() as smtp:
        started = ReaderJourney(tmp_path, smtp)
        started.command("init")
        started.import_confirmed(READER, FRIEND)
        yield started


def test_pause_from_an_issue_download_what_is_kept_and_delete_everything(journey: ReaderJourney, tmp_path: Path,
                                                                       browser: Browser, artifacts: Path) -> None:
    engine = connect(journey.config.database_url)
    side = Subscribers(journey.config, engine)
    reader_id = side.store.identify(parse(READER))
    assert reader_id is not None
    blind_index = side.crypto.blind_index(parse(READER).lookup)
    context = browser.new_context(bypass_csp=True, accept_downloads=True)  # bypass: axe-core is injected
    page = context.new_page()
    try:
        with journey.running(MONDAY_AFTER_W47):
            wait_for(lambda: journey.issue_sent(engine, W47), "the 07:00 send of 2026-W47")
            [issue] = journey.mail_to(READER)
            manage = manage_link(issue.data)
            pause_for_a_week(page, manage, artifacts)
        with journey.running(MONDAY_AFTER_W48):
            wait_for(lambda: journey.issue_sent(engine, W48), "the 07:00 send of 2026-W48")
        assert journey.smtp.recipients() == {READER: 1, FRIEND: 2}  # W48 skipped the paused reader
        with journey.running(MONDAY_AFTER_W49):
            wait_for(lambda: journey.issue_sent(engine, W49), "the 07:00 send of 2026-W49")
            assert journey.smtp.recipients() == {READER: 2, FRIEND: 3}  # the pause ended by itself
            download(page, manage)
            assert blind_index.encode() in dump(tmp_path / "newsletter.db")  # the search below can fail
            delete_everything(page, manage, artifacts)
        assert deliveries_of(engine, reader_id) == 0
    finally:
        context.close()
        engine.dispose()
    assert_forgotten(tmp_path / "newsletter.db", blind_index)


def test_change_address_old_one_receives_until_the_new_one_confirms(journey: ReaderJourney, browser: Browser,
                                                                    artifacts: Path) -> None:
    engine = connect(journey.config.database_url)
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    try:
        with journey.running(MONDAY_AFTER_W47):
            wait_for(lambda: journey.issue_sent(engine, W47), "the 07:00 send of 2026-W47")
            [issue] = journey.mail_to(READER)
            page.goto(manage_link(issue.data))
            page.get_by_label("New email address").fill(MOVED)
            page.get_by_role("button", name="Change address").click()
            assert "Until it is confirmed" in page.get_by_role("status").inner_text()
            assert serious_violations(page) == []
            wait_for(lambda: journey.mail_to(MOVED), "the new address's confirmation email")
        with journey.running(MONDAY_AFTER_W48):
            wait_for(lambda: journey.issue_sent(engine, W48), "the 07:00 send of 2026-W48")
            assert journey.smtp.recipients() == {READER: 2, FRIEND: 2, MOVED: 1}  # not confirmed yet
            [confirmation] = journey.mail_to(MOVED)
            page.goto(f"{journey.url}/manage/change?token={confirm_token(confirmation.data, CHANGE_LINK)}")
            assert serious_violations(page) == []
            page.get_by_role("button", name="Confirm my new address").click()
            assert page.get_by_role("heading", level=1).inner_text() == "Your address is changed"
            page.screenshot(path=str(artifacts / "manage-address-changed.png"), full_page=True)
        with journey.running(MONDAY_AFTER_W49):
            wait_for(lambda: journey.issue_sent(engine, W49), "the 07:00 send of 2026-W49")
        assert journey.smtp.recipients() == {READER: 2, FRIEND: 3, MOVED: 2}  # only the new one now
    finally:
        context.close()
        engine.dispose()


def manage_link(message_bytes: bytes) -> str:
    message = email.message_from_bytes(message_bytes, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    assert html_part is not None
    assert text_part is not None
    html = lxml.html.fromstring(html_part.get_content())
    link = str(html.xpath("string(//a[normalize-space()='Manage your subscription']/@href)"))
    assert "/manage?token=" in link
    assert link in text_part.get_content().split()
    return link


def pause_for_a_week(page: Page, manage: str, artifacts: Path) -> None:
    page.goto(manage)
    assert page.get_by_role("heading", level=1).inner_text() == "Your subscription"
    assert serious_violations(page) == []
    page.screenshot(path=str(artifacts / "manage-page.png"), full_page=True)
    page.get_by_label("1 week").check()
    page.get_by_role("button", name="Pause").click()
    assert "Paused. No issue is sent before 30 November 2026" in page.get_by_role("status").inner_text()
    assert serious_violations(page) == []
    page.goto(manage)  # opening it again changes nothing, and shows the pause
    assert page.get_by_role("button", name="Start again now").is_visible()


def download(page: Page, manage: str) -> None:
    page.goto(manage)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download it as a file (JSON)").click()
    saved = Path(info.value.path())
    text = saved.read_text(encoding="utf-8")
    document = json.loads(text)
    assert document["address"] == READER
    assert [event["action"] for event in document["history"]] == ["paused"]
    assert document["consent"]["note"] == "on paper"
    assert not any(spelling in text for spelling in forms(FRIEND))


def delete_everything(page: Page, manage: str, artifacts: Path) -> None:
    page.goto(manage)
    page.get_by_role("button", name="Delete everything").click()  # the box is not ticked: nothing happens
    assert page.get_by_role("heading", level=1).inner_text() == "Your subscription"
    page.get_by_label("I want my address and every record about it deleted").check()
    page.get_by_role("button", name="Delete everything").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Everything is deleted"
    assert serious_violations(page) == []
    page.screenshot(path=str(artifacts / "manage-deleted.png"), full_page=True)
    page.goto(manage)
    assert page.get_by_role("heading", level=1).inner_text() == "This subscription no longer exists"


def deliveries_of(engine: Engine, subscriber_id: int) -> int:
    with sessions(engine)() as session:
        return session.scalar(select(func.count()).where(DeliveryRow.subscriber_id == subscriber_id)) or 0


def assert_forgotten(database: Path, blind_index: str) -> None:
    """Neither the address in any spelling or encoding nor its blind index is in the file or its WAL."""
    found = dump(database)
    assert blind_index.encode() not in found
    for spelling in forms(READER):
        for blob in encodings(spelling):
            assert blob not in found, spelling


def dump(database: Path) -> bytes:
    """The SQLite file and its WAL, as bytes."""
    files = [database, database.with_name("newsletter.db-wal")]
    return b"".join(path.read_bytes() for path in files if path.exists())
