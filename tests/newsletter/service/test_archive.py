"""The archive pages and the Atom feed, served by Starlette's TestClient from a real database."""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import lxml.etree
import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from newsletter.config.settings import Config, load
from newsletter.content import store as excerpt_store
from newsletter.content.excerpt import Excerpt
from newsletter.content.ingest import ingest
from newsletter.db.engine import connect, sessions
from newsletter.db.migrate import migrate
from newsletter.delivery import send_issue as sending
from newsletter.service.archive import routes
from newsletter.weeks import IsoWeek
from subscribers.addresses import parse
from subscribers.recipients import SubscriberRecipients
from subscribers.side import Subscribers
from subscribers.store import Consent
from tests.conftest import write_config
from tests.newsletter.conftest import sample_excerpts

ATOM = "{http://www.w3.org/2005/Atom}"
READER = "reader.one@example.org"
W46, W47 = IsoWeek(2026, 46), IsoWeek(2026, 47)


@dataclasses.dataclass
class Archive:
    client: TestClient
    config: Config
    engine: Engine

    def add_issue(self, week: IsoWeek, excerpts: list[Excerpt], created: datetime) -> None:
        made = sessions(self.engine)
        with made.begin() as session:
            excerpt_store.add(session, excerpts)
            sending.open_issue(session, week, f"Weekly Lessons — week of {week.monday}", excerpts,
                              SubscriberRecipients(self.config, self.engine).confirmed_ids(), created)


@pytest.fixture
def archive(tmp_path: Path, sqlite_url: str) -> Iterator[Archive]:
    config = load(write_config(tmp_path, sqlite_url), environ={})
    engine = connect(config.database_url)
    migrate(engine)
    Subscribers(config, engine).store.add_confirmed(parse(READER), Consent("import", "test"))
    app = Starlette(routes=routes(config, engine))
    with TestClient(app, base_url="https://news.example.org") as client:
        yield Archive(client, config, engine)
    engine.dispose()


def moved(excerpts: list[Excerpt], days: int) -> list[Excerpt]:
    return [dataclasses.replace(e, lesson_date=e.lesson_date + timedelta(days=days), title=f"{e.title} (earlier)")
            for e in excerpts]


def test_an_issue_page_shows_the_weeks_excerpts_and_nothing_about_any_reader(archive: Archive) -> None:
    excerpts = sample_excerpts()
    archive.add_issue(W47, excerpts, datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    page = archive.client.get("/issues/2026-W47")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    html = page.text
    assert "<title>Week 47: 16–22 November 2026 · Weekly Lessons</title>" in html
    assert [e.title for e in excerpts] == _headings(html, "h2")
    assert "Monday, 16 November 2026" in html
    assert "<strong>Question:</strong> If nobody in the house knows" in html
    for personal in (READER, "reader.one", "unsubscribe", "token", "NLPLACEHOLDER"):
        assert personal not in html.lower()


def test_the_list_shows_every_issue_newest_first_with_links_to_their_pages(archive: Archive) -> None:
    archive.add_issue(W46, moved(sample_excerpts()[:2], -7), datetime(2026, 11, 16, 7, 0, tzinfo=UTC))
    archive.add_issue(W47, sample_excerpts(), datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    html = archive.client.get("/issues/").text
    assert html.index('href="2026-W47">16–22 November 2026</a>') < html.index('href="2026-W46">9–15 November 2026</a>')
    assert "The Lamp in the Window (earlier) · Two Kinds of Effort (earlier)" in html
    assert READER not in html


def test_an_empty_archive_says_no_issue_has_been_sent_yet(archive: Archive) -> None:
    assert "No issue has been sent yet." in archive.client.get("/issues/").text


@pytest.mark.parametrize("path", ["/issues/2026-W48", "/issues/2026-W99", "/issues/2026w47", "/issues/latest"],
                         ids=["no-issue-that-week", "no-such-week", "not-the-canonical-spelling", "not-a-week"])
def test_a_week_without_an_issue_is_not_found(archive: Archive, path: str) -> None:
    archive.add_issue(W47, sample_excerpts(), datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    assert archive.client.get(path).status_code == 404


def test_titles_are_escaped_on_the_page(archive: Archive) -> None:
    [first, *_] = sample_excerpts()
    archive.add_issue(W47, [dataclasses.replace(first, title="Light <script>alert(1)</script> & shade")],
                      datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    html = archive.client.get("/issues/2026-W47").text
    assert "<script>" not in html
    assert "Light &lt;script&gt;alert(1)&lt;/script&gt; &amp; shade" in html


def test_the_feed_is_atom_with_one_entry_per_issue_newest_first(archive: Archive) -> None:
    archive.add_issue(W46, moved(sample_excerpts()[:1], -7), datetime(2026, 11, 16, 7, 0, tzinfo=UTC))
    archive.add_issue(W47, sample_excerpts()[:2], datetime(2026, 11, 23, 7, 0, 5, tzinfo=UTC))
    answer = archive.client.get("/issues/feed.xml")
    assert answer.headers["content-type"] == "application/atom+xml"
    feed = lxml.etree.fromstring(answer.content)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == "https://news.example.org/issues/"
    assert feed.findtext(f"{ATOM}updated") == "2026-11-23T07:00:05Z"
    assert feed.xpath("string(a:link[@rel='self']/@href)", namespaces={"a": ATOM[1:-1]}) == \
        "https://news.example.org/issues/feed.xml"
    entries = [(e.findtext(f"{ATOM}id"), e.xpath("string(a:link/@href)", namespaces={"a": ATOM[1:-1]}),
                e.findtext(f"{ATOM}updated"), e.findtext(f"{ATOM}summary")) for e in feed.iter(f"{ATOM}entry")]
    assert entries == [
        ("https://news.example.org/issues/2026-W47", "https://news.example.org/issues/2026-W47",
         "2026-11-23T07:00:05Z", "The Lamp in the Window · Two Kinds of Effort"),
        ("https://news.example.org/issues/2026-W46", "https://news.example.org/issues/2026-W46",
         "2026-11-16T07:00:00Z", "The Lamp in the Window (earlier)"),
    ]
    assert READER.encode() not in answer.content


def test_the_pages_stylesheet_is_served_beside_them(archive: Archive) -> None:
    answer = archive.client.get("/issues/site.css")
    assert answer.headers["content-type"].startswith("text/css")
    assert answer.text.startswith(":root {")


def _headings(html: str, tag: str) -> list[str]:
    root = lxml.etree.fromstring(html.encode(), lxml.etree.HTMLParser())
    return [str(h.xpath("string()")) for h in root.iter(tag)]


CONTROL_PAGE = (
    "The Daily Page - 16-11-26\n\n"
    "The Bell\x07 at the Gate\x1b[0m\n\n"
    "A bell\x00 rings twice\x08 before the gate opens\x0b and the guests come in.\x7f\n\n"
    "Question\x01: Why twice?\n\n"
    "Answer: Once for those who wait, once for those who \x9bcame\x1f late.\n\n"
    "From the 1st part of the Daily Lesson 11/16/26, Letters\x0c of the Teacher\n"
)


def test_control_characters_from_an_ingested_page_never_reach_the_atom_feed(archive: Archive,
                                                                           tmp_path: Path) -> None:
    page = tmp_path / "2026-11-16.txt"
    page.write_text(CONTROL_PAGE, encoding="utf-8")
    made = sessions(archive.engine)
    with httpx.Client() as client:
        [outcome] = ingest([str(page)], made, client)
    assert outcome.ok, outcome.error
    with made() as session:
        [stored] = excerpt_store.in_week(session, W47)
    archive.add_issue(W47, [stored], datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    feed = lxml.etree.fromstring(archive.client.get("/issues/feed.xml").content)
    assert feed.findtext(f"{ATOM}entry/{ATOM}summary") == "The Bell at the Gate[0m"
    texts = [stored.title, stored.source, *(p.plain() for p in stored.paragraphs)]
    assert [c for text in texts for c in text if unicodedata.category(c) == "Cc"] == []
    assert stored.paragraphs[0].text == "A bell rings twice before the gate opens and the guests come in."
