"""The delivery ledger on SQLite and PostgreSQL: one issue per week, claims, leases, outcomes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.settings import load
from newsletter.content import store as excerpt_store
from newsletter.content.excerpt import Excerpt
from newsletter.db.engine import sessions as make_sessions
from newsletter.delivery import ledger
from newsletter.delivery import send_issue as sending
from newsletter.delivery.ledger import Outcome
from newsletter.delivery.tables import DeliveryRow, DeliveryState
from newsletter.issues import store as issues
from newsletter.issues.tables import IssueRow
from newsletter.weeks import IsoWeek
from subscribers.addresses import parse
from subscribers.recipients import SubscriberRecipients
from subscribers.side import Subscribers
from subscribers.store import Consent
from tests.conftest import write_config
from tests.newsletter.conftest import sample_excerpts

W47 = IsoWeek(2026, 47)
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
State = DeliveryState


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessions(engine)


@pytest.fixture
def excerpts(sessions: sessionmaker[Session]) -> list[Excerpt]:
    stored = sample_excerpts()
    with sessions.begin() as session:
        excerpt_store.add(session, stored)
    return stored


@pytest.fixture
def recipients(tmp_path: Path, engine: Engine, database_url: str) -> SubscriberRecipients:
    """Twelve confirmed subscribers and one pending, on the real subscriber store."""
    config = load(write_config(tmp_path, database_url), environ={})
    side = Subscribers(config, engine)
    for n in range(12):
        side.store.add_confirmed(parse(f"reader{n}@example.com"), Consent("import", "test"))
    side.store.sign_up(parse("waiting@example.com"), Consent("web", "test"))
    return SubscriberRecipients(config, engine)


def open_w47(sessions: sessionmaker[Session], excerpts: list[Excerpt],
             recipients: SubscriberRecipients) -> tuple[int, bool]:
    with sessions.begin() as session:
        issue, created = sending.open_issue(session, W47, "Subject", excerpts, recipients.confirmed_ids(), NOW)
        return issue.id, created


def claim(sessions: sessionmaker[Session], issue_id: int, limit: int = 5, now: datetime = NOW,
          lease: float = 60) -> list[ledger.Claim]:
    with sessions.begin() as session:
        return ledger.claim(session, issue_id, limit=limit, lease_seconds=lease, now=now)


def counts(sessions: sessionmaker[Session], issue_id: int) -> dict[str, int]:
    with sessions() as session:
        return {state.value: n for state, n in ledger.counts(session, issue_id).items() if n}


def test_opening_a_week_snapshots_the_confirmed_subscribers_once(
        sessions: sessionmaker[Session], excerpts: list[Excerpt], recipients: SubscriberRecipients) -> None:
    issue_id, created = open_w47(sessions, excerpts, recipients)
    assert created
    assert counts(sessions, issue_id) == {"pending": 12}
    again, created_again = open_w47(sessions, excerpts[:1], recipients)
    assert (again, created_again) == (issue_id, False)
    assert counts(sessions, issue_id) == {"pending": 12}
    with sessions() as session:
        assert [e.title for e in issues.excerpts_of(session, issue_id)] == [e.title for e in excerpts]


def test_two_processes_opening_the_same_week_at_once_make_one_issue(
        sessions: sessionmaker[Session], excerpts: list[Excerpt], recipients: SubscriberRecipients) -> None:
    results: list[tuple[int, bool]] = []
    barrier = threading.Barrier(2)

    def opener() -> None:
        barrier.wait()
        results.append(open_w47(sessions, excerpts, recipients))

    threads = [threading.Thread(target=opener) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(created for _, created in results) == [False, True]
    assert len({issue_id for issue_id, _ in results}) == 1
    with sessions() as session:
        assert session.scalars(select(IssueRow.week)).all() == ["2026-W47"]
        assert len(session.scalars(select(DeliveryRow.id)).all()) == 12


def test_claims_hand_out_each_due_row_once_in_id_order(
        sessions: sessionmaker[Session], excerpts: list[Excerpt], recipients: SubscriberRecipients) -> None:
    issue_id, _ = open_w47(sessions, excerpts, recipients)
    first, second, third = claim(sessions, issue_id), claim(sessions, issue_id), claim(sessions, issue_id)
    ids = [c.delivery_id for c in first + second + third]
    assert [len(first), len(second), len(third)] == [5, 5, 2]
    assert ids == sorted(ids)
    assert len(set(ids)) == 12
    assert claim(sessions, issue_id) == []
    assert counts(sessions, issue_id) == {"sending": 12}
    assert {c.attempts for c in first} == {1}


def test_a_lapsed_lease_makes_a_row_claimable_again(
        sessions: sessionmaker[Session], excerpts: list[Excerpt], recipients: SubscriberRecipients) -> None:
    issue_id, _ = open_w47(sessions, excerpts, recipients)
    held = claim(sessions, issue_id, limit=3, lease=30)
    assert claim(sessions, issue_id, limit=20, now=NOW + timedelta(seconds=29)) != []  # the other 9
    retaken = claim(sessions, issue_id, limit=20, now=NOW + timedelta(seconds=31))
    assert [c.delivery_id for c in retaken] == [c.delivery_id for c in held]
    assert {c.attempts for c in retaken} == {2}
    assert {c.first_attempt_at for c in retaken} == {NOW}


def test_outcomes_are_recorded_and_deferred_rows_wait_for_their_time(
        sessions: sessionmaker[Session], excerpts: list[Excerpt], recipients: SubscriberRecipients) -> None:
    issue_id, _ = open_w47(sessions, excerpts, recipients)
    a, b, c, d = claim(sessions, issue_id, limit=4)
    later = NOW + timedelta(minutes=5)
    with sessions.begin() as session:
        ledger.record(session, [Outcome(a.delivery_id, State.SENT),
                                Outcome(b.delivery_id, State.FAILED, 550, "mailbox unavailable"),
                                Outcome(c.delivery_id, State.DEFERRED, 451, "try later", next_attempt_at=later),
                                Outcome(d.delivery_id, State.SKIPPED, reason="gone")], NOW)
    assert counts(sessions, issue_id) == {"pending": 8, "sent": 1, "failed": 1, "deferred": 1, "skipped": 1}
    with sessions() as session:
        assert ledger.failure_reasons(session, issue_id) == [("mailbox unavailable", 1), ("try later", 1)]
    not_yet = claim(sessions, issue_id, limit=20, now=later - timedelta(seconds=1))
    assert c.delivery_id not in [x.delivery_id for x in not_yet]
    with sessions.begin() as session:
        ledger.release(session, [x.delivery_id for x in not_yet])
        assert ledger.next_due(session, issue_id) == later
    due = claim(sessions, issue_id, limit=20, now=later)
    assert c.delivery_id in [x.delivery_id for x in due]


def test_released_rows_go_back_untried(sessions: sessionmaker[Session], excerpts: list[Excerpt],
                                       recipients: SubscriberRecipients) -> None:
    issue_id, _ = open_w47(sessions, excerpts, recipients)
    held = claim(sessions, issue_id, limit=4)
    with sessions.begin() as session:
        ledger.release(session, [c.delivery_id for c in held])
    assert counts(sessions, issue_id) == {"pending": 12}
    assert [c.attempts for c in claim(sessions, issue_id, limit=4)] == [1, 1, 1, 1]


def test_concurrent_workers_never_hold_the_same_row(
        sessions: sessionmaker[Session], excerpts: list[Excerpt], recipients: SubscriberRecipients) -> None:
    issue_id, _ = open_w47(sessions, excerpts, recipients)
    taken: list[list[int]] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        mine: list[int] = []
        while batch := claim(sessions, issue_id, limit=2):
            mine.extend(c.delivery_id for c in batch)
        taken.append(mine)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [row for mine in taken for row in mine]
    assert len(every) == 12
    assert len(set(every)) == 12
