"""The jobs of `newsletter run` against a real database, the real subscriber store and real transports."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.settings import Config, load
from newsletter.content import store as excerpt_store
from newsletter.db.engine import connect
from newsletter.db.engine import sessions as make_sessions
from newsletter.db.migrate import migrate
from newsletter.delivery import ledger
from newsletter.delivery import send_issue as sending
from newsletter.delivery.tables import DeliveryState
from newsletter.issues import life
from newsletter.issues import store as issues
from newsletter.issues.prepare import PreparedIssue, prepare
from newsletter.issues.tables import IssueRow, IssueState
from newsletter.service.jobs import ScheduledWork
from newsletter.service.logs import EventFormatter
from newsletter.service.proofs import ReviewLinks
from newsletter.weeks import IsoWeek
from subscribers.addresses import parse
from subscribers.recipients import SubscriberRecipients
from subscribers.side import Subscribers
from subscribers.store import Consent
from tests.conftest import EXAMPLES, write_config
from tests.newsletter.conftest import sample_excerpts
from tests.newsletter.smtp_server import SmtpServer

pytestmark = pytest.mark.anyio

W47 = IsoWeek(2026, 47)
MONDAY_AFTER_W47 = datetime(2026, 11, 23, 7, 0, 2, tzinfo=UTC)  # the 07:00 run that sends 2026-W47
READERS = ["ada@example.com", "ben@example.com", "cy@example.com"]


@dataclass
class Site:
    """A database with readers and (unless told otherwise) the sample week, and a way to make the jobs."""

    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    side: Subscribers
    outbox: Path

    def work(self, clock: datetime = MONDAY_AFTER_W47, stop: asyncio.Event | None = None) -> ScheduledWork:
        return ScheduledWork(self.config, self.sessions, SubscriberRecipients(self.config, self.engine),
                             purge=lambda: self.side.store.purge(self.side.settings.pending),
                             stop=stop or asyncio.Event(), clock=lambda: clock)

    def mailed(self) -> list[str]:
        """The recipients of the messages in the outbox, sorted."""
        found = []
        for path in (self.outbox / "new").glob("*.eml"):
            to = next(line for line in path.read_bytes().split(b"\r\n") if line.startswith(b"To: "))
            found.append(to[4:].decode())
        return sorted(found)

    def issues(self) -> list[str]:
        with self.sessions() as session:
            return list(session.scalars(select(IssueRow.week).order_by(IssueRow.week)))


def new_site(tmp_path: Path, database_url: str, *, excerpts: bool = True, environ: dict[str, str] | None = None,
              **sections: dict[str, object]) -> Site:
    sections.setdefault("schedule", {}).setdefault("cron", "0 7 * * mon")
    config = load(write_config(tmp_path, database_url, **sections), environ=environ or {})
    engine = connect(config.database_url)
    migrate(engine)
    sessions = make_sessions(engine)
    side = Subscribers(config, engine)
    for address in READERS:
        side.store.add_confirmed(parse(address), Consent("import", "test"))
    if excerpts:
        with sessions.begin() as session:
            excerpt_store.add(session, sample_excerpts())
    return Site(config, engine, sessions, side, config.path(config.outbox.dir))


MakeSite = Callable[..., Site]


@pytest.fixture
def make_site(tmp_path: Path) -> Iterator[MakeSite]:
    """Makes a Site in tmp_path on a database URL; its engine is disposed after the test."""
    made: list[Site] = []

    def make(database_url: str, **options: Any) -> Site:
        made.append(new_site(tmp_path, database_url, **options))
        return made[-1]

    yield make
    for site in made:
        site.engine.dispose()


@pytest.fixture
def site(make_site: MakeSite, sqlite_url: str) -> Site:
    return make_site(sqlite_url)


async def test_the_weekly_send_mails_the_last_complete_week_to_every_reader_once(site: Site) -> None:
    await site.work().weekly_send()
    assert site.issues() == ["2026-W47"]
    assert site.mailed() == READERS
    await site.work().weekly_send()  # a second run of the same week only resumes it
    assert site.mailed() == READERS
    assert site.issues() == ["2026-W47"]


async def test_a_week_without_excerpts_sends_nothing_and_says_so(site: Site,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "newsletter.schedule")
    await site.work(clock=MONDAY_AFTER_W47 + timedelta(days=7)).weekly_send()
    assert site.issues() == []
    assert site.mailed() == []
    [empty] = [r for r in caplog.records if getattr(r, "event", "") == "weekly_send.empty"]
    assert empty.getMessage() == "no excerpts for 2026-W48: no issue this week, nothing sent"


async def test_a_run_caught_up_days_later_still_sends_the_week_it_missed(site: Site) -> None:
    await site.work(clock=MONDAY_AFTER_W47 + timedelta(hours=47)).weekly_send()
    assert site.issues() == ["2026-W47"]


async def test_the_configured_sources_are_ingested_before_the_week_is_chosen(make_site: MakeSite,
                                                                             sqlite_url: str) -> None:
    site = make_site(sqlite_url, excerpts=False,
                     environ={"NEWSLETTER_SCHEDULE_INGEST": str(EXAMPLES / "pages")})
    await site.work().weekly_send()
    assert site.issues() == ["2026-W47"]
    with site.sessions() as session:
        issue = issues.find(session, W47)
        assert issue is not None
        kept = issues.excerpts_of(session, issue.id)
    assert kept
    assert all(excerpt.lesson_date in W47 and excerpt.origin.startswith(str(EXAMPLES)) for excerpt in kept)
    assert site.mailed() == READERS


async def test_relative_sources_are_found_beside_the_config_file(make_site: MakeSite, sqlite_url: str,
                                                                 tmp_path: Path) -> None:
    (tmp_path / "pages").symlink_to(EXAMPLES / "pages")
    site = make_site(sqlite_url, excerpts=False, environ={"NEWSLETTER_SCHEDULE_INGEST": "pages"})
    await site.work().weekly_send()  # the test runs in another working directory
    assert site.issues() == ["2026-W47"]


async def test_an_unreadable_source_is_logged_and_the_stored_week_still_goes_out(
        site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    empty = tmp_path / "no-pages-here"
    empty.mkdir()
    site.config = load(write_config(tmp_path, site.config.database.url, schedule={"cron": "0 7 * * mon"}),
                       environ={"NEWSLETTER_SCHEDULE_INGEST": str(empty)})
    await site.work().weekly_send()
    assert site.mailed() == READERS
    assert any(getattr(r, "event", "") == "ingest.failed" for r in caplog.records)


async def test_two_schedulers_and_a_manual_send_on_one_database_make_one_issue(make_site: MakeSite,
                                                                              database_url: str) -> None:
    site = make_site(database_url)

    def manual_send_starts_the_week() -> None:  # what `newsletter send --week 2026-W47` does first
        with site.sessions() as session:
            prepared = prepare(site.config, session, W47)
        assert isinstance(prepared, PreparedIssue)
        sending.start(site.sessions, prepared, SubscriberRecipients(site.config, site.engine))

    await asyncio.gather(site.work().weekly_send(), site.work().weekly_send(),
                         asyncio.to_thread(manual_send_starts_the_week))
    assert site.issues() == ["2026-W47"]
    assert site.mailed() == READERS
    with site.sessions() as session:
        assert session.scalar(select(func.count()).select_from(IssueRow)) == 1


async def test_the_retry_job_delivers_what_the_weekly_send_had_to_defer(make_site: MakeSite,
                                                                        sqlite_url: str) -> None:
    async with SmtpServer() as server:
        site = make_site(sqlite_url, delivery={"transport": "smtp", "retry_seconds": 0.01, "linger_seconds": 0},
                         smtp={"host": server.host, "port": server.port, "timeout": 5.0})
        server.faults.rcpt = {READERS[1]: "451 4.7.1 Greylisted, try again later"}
        await site.work().weekly_send()
        assert sorted(server.recipients()) == [READERS[0], READERS[2]]
        server.faults.rcpt = {}
        await asyncio.sleep(0.05)  # the 0.01 s back-off passes
        await site.work().retry_deferred()
        assert server.recipients() == dict.fromkeys(READERS, 1)
    with site.sessions() as session:
        states = ledger.counts(session, 1)
    assert states[DeliveryState.SENT] == 3


async def test_once_stop_is_set_no_job_starts(site: Site) -> None:
    stop = asyncio.Event()
    stop.set()
    work = site.work(stop=stop)
    await work.weekly_send()
    await work.retry_deferred()
    assert site.issues() == []
    assert await work.drain(0.1)


async def test_the_purge_forgets_sign_ups_nobody_confirmed_in_time(site: Site,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "newsletter.schedule")
    long_ago = datetime.now(UTC) - timedelta(days=site.config.subscribers.pending_days + 1)
    earlier = Subscribers(site.config, site.engine, now=lambda: long_ago)
    earlier.store.sign_up(parse("late@example.com"), Consent("web-signup", "test"))
    site.side.store.sign_up(parse("recent@example.com"), Consent("web-signup", "test"))
    await site.work().purge_pending()
    assert site.side.store.lookup(parse("late@example.com")) is None
    assert site.side.store.lookup(parse("recent@example.com")) is not None
    [done] = [r for r in caplog.records if getattr(r, "event", "") == "purge_pending.done"]
    assert done.__dict__["purged"] == 1


async def test_a_failing_job_logs_one_line_and_the_schedule_carries_on(
        make_site: MakeSite, tmp_path: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    broken = tmp_path / "templates" / "email"
    broken.mkdir(parents=True)
    (broken / "issue.html").write_text("{% for x in %}\n", encoding="utf-8")
    site = make_site(sqlite_url, environ={"NEWSLETTER_TEMPLATES_DIR": str(tmp_path / "templates")})
    await site.work().weekly_send()  # does not raise
    [failed] = [r for r in caplog.records if getattr(r, "event", "") == "weekly_send.failed"]
    assert failed.getMessage().startswith("weekly send failed: email/issue.html, line 1:")
    assert site.issues() == []



async def test_a_job_that_fails_unexpectedly_logs_one_line_without_a_traceback(
        site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug while mailing reader@example.org")

    monkeypatch.setattr("newsletter.service.jobs.prepare", broken)  # the fault: a bug in a stage
    await site.work().weekly_send()  # does not raise
    [failed] = [r for r in caplog.records if getattr(r, "event", "") == "weekly_send.failed"]
    assert failed.exc_info is None
    line = EventFormatter("keyvalue").format(failed)
    assert "weekly send failed unexpectedly: RuntimeError: a bug while mailing" in line
    assert "Traceback" not in line
    assert "reader@example.org" not in line


async def test_the_scheduled_freeze_drafts_the_week_and_leaves_a_week_the_editor_decided_on(
        make_site: MakeSite, sqlite_url: str) -> None:
    site = make_site(sqlite_url, review={"freeze": "0 5 * * mon", "reviewers": ["editor@news.example.org"]})
    links = ReviewLinks(site.side.signer, site.config.web.base_url, 72)
    freeze_time = MONDAY_AFTER_W47 - timedelta(hours=2)
    held_week = IsoWeek(2026, 48)
    with site.sessions.begin() as session:
        life.move(session, held_week, IssueState.HELD, by="editor", reason="not this week", now=freeze_time)
    work = ScheduledWork(site.config, site.sessions, SubscriberRecipients(site.config, site.engine),
                         purge=lambda: 0, stop=asyncio.Event(), clock=lambda: freeze_time, links=links)
    await work.weekly_freeze()
    assert site.mailed() == ["editor@news.example.org"]  # the proof, and nothing to the readers
    with site.sessions() as session:
        drafted = life.current(session, W47)
        assert drafted is not None
        assert (drafted.state, drafted.changed_by) == (IssueState.DRAFT, "schedule")
    a_week_later = ScheduledWork(site.config, site.sessions, SubscriberRecipients(site.config, site.engine),
                                 purge=lambda: 0, stop=asyncio.Event(),
                                 clock=lambda: freeze_time + timedelta(days=7), links=links)
    await a_week_later.weekly_freeze()  # 2026-W48 was held by hand before its freeze: it stays so
    with site.sessions() as session:
        held = life.current(session, held_week)
        assert held is not None
        assert held.state is IssueState.HELD
    assert site.mailed() == ["editor@news.example.org"]


async def test_a_notice_to_the_reviewers_goes_to_each_of_them_and_to_nobody_else(make_site: MakeSite,
                                                                                  sqlite_url: str) -> None:
    reviewers = ["editor@news.example.org", "second@news.example.org"]
    site = make_site(sqlite_url, review={"reviewers": reviewers})
    await site.work().tell("Paused: 2026-W47", "The send of 2026-W47 paused itself.\n")
    assert site.mailed() == reviewers
    for path in (site.outbox / "new").glob("*.eml"):
        assert b"Subject: Paused: 2026-W47" in path.read_bytes()
