"""The delivery ledger on SQLite and PostgreSQL: one issue per week, claims, leases, outcomes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Select, event, literal, select, union_all
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.settings import load
from newsletter.content import store as excerpt_store
from newsletter.content.excerpt import Excerpt
from newsletter.db.engine import connect
from newsletter.db.engine import sessions as make_sessions
from newsletter.db.migrate import migrate
from newsletter.db.schema import as_utc
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
W48 = IsoWeek(2026, 48)
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


def subscriber_ids(*ids: int) -> Select[int]:
    """A SELECT of these subscriber ids in this order, standing in for the subscriber side's."""
    chosen = union_all(*(select(literal(id_).label("id")) for id_ in ids)).cte("chosen")
    return select(chosen.c.id)


def open_week(sessions: sessionmaker[Session], week: IsoWeek, excerpts: list[Excerpt],
              recipients: Select[int]) -> int:
    with sessions.begin() as session:
        issue, _ = sending.open_issue(session, week, "Subject", excerpts, recipients, NOW)
        return issue.id


def claim(sessions: sessionmaker[Session], issue_id: int, limit: int = 5, now: datetime = NOW,
          lease: float = 60) -> list[ledger.Claim]:
    with sessions.begin() as session:
        return ledger.claim(session, issue_id, limit=limit, lease_seconds=lease, now=now)


def counts(sessions: sessionmaker[Session], issue_id: int) -> dict[str, int]:
    with sessions() as session:
        return {state.value: n for state, n in ledger.counts(session, issue_id).items() if n}


def record(sessions: sessionmaker[Session], outcomes: list[Outcome], now: datetime = NOW) -> None:
    with sessions.begin() as session:
        ledger.record(session, outcomes, now)


def row(sessions: sessionmaker[Session], delivery_id: int) -> tuple[object, ...]:
    """A ledger row as (state, code, reason, finished_at, lease_until), times in UTC."""
    with sessions() as session:
        found = session.get_one(DeliveryRow, delivery_id)
        return (found.state.value, found.code, found.reason, found.finished_at and as_utc(found.finished_at),
                found.lease_until and as_utc(found.lease_until))


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


def test_the_snapshot_is_written_in_subscriber_order_whatever_order_they_come_in(
        sessions: sessionmaker[Session], excerpts: list[Excerpt]) -> None:
    issue_id = open_week(sessions, W48, excerpts, subscriber_ids(5, 3, 9, 1))
    assert [c.subscriber_id for c in claim(sessions, issue_id, limit=10)] == [1, 3, 5, 9]


def test_an_issue_has_work_until_every_row_is_final(
        sessions: sessionmaker[Session], excerpts: list[Excerpt], recipients: SubscriberRecipients) -> None:
    w47, _ = open_w47(sessions, excerpts, recipients)
    w48 = open_week(sessions, W48, excerpts, subscriber_ids(101))

    def with_work() -> list[int]:
        with sessions() as session:
            return sorted(ledger.issues_with_work(session))

    assert with_work() == [w47, w48]  # pending
    [held] = claim(sessions, w48)
    assert with_work() == [w47, w48]  # sending
    later = NOW + timedelta(minutes=5)
    record(sessions, [Outcome(held.delivery_id, State.DEFERRED, 451, "try later", next_attempt_at=later)])
    assert with_work() == [w47, w48]  # deferred
    [again] = claim(sessions, w48, now=later)
    record(sessions, [Outcome(again.delivery_id, State.SENT)], later)
    assert with_work() == [w47]


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
    assert claim(sessions, issue_id, limit=20, now=NOW + timedelta(seconds=30)) == []  # the lease's last instant
    retaken = claim(sessions, issue_id, limit=20, now=NOW + timedelta(seconds=31))
    assert [c.delivery_id for c in retaken] == [c.delivery_id for c in held]
    assert {c.attempts for c in retaken} == {2}
    assert {c.first_attempt_at for c in retaken} == {NOW}


def test_a_claim_holds_at_most_its_limit_across_lapsed_deferred_and_pending_rows(
        sessions: sessionmaker[Session], excerpts: list[Excerpt], recipients: SubscriberRecipients) -> None:
    issue_id, _ = open_w47(sessions, excerpts, recipients)
    lapsed = claim(sessions, issue_id, limit=2, lease=30)
    [deferred] = claim(sessions, issue_id, limit=1)
    record(sessions, [Outcome(deferred.delivery_id, State.DEFERRED, 451, "try later",
                              next_attempt_at=NOW + timedelta(seconds=10))])
    taken = [c.delivery_id for c in claim(sessions, issue_id, limit=5, now=NOW + timedelta(minutes=1))]
    assert len(taken) == 5
    assert {c.delivery_id for c in lapsed} | {deferred.delivery_id} < set(taken)
    assert counts(sessions, issue_id) == {"sending": 5, "pending": 7}


def test_each_issue_has_its_own_claims_due_times_and_failure_reasons(
        sessions: sessionmaker[Session], excerpts: list[Excerpt], recipients: SubscriberRecipients) -> None:
    w47, _ = open_w47(sessions, excerpts, recipients)
    w48 = open_week(sessions, W48, excerpts, subscriber_ids(101, 102))
    [deferred] = claim(sessions, w47, limit=1)
    record(sessions, [Outcome(deferred.delivery_id, State.DEFERRED, 451, "try later",
                              next_attempt_at=NOW + timedelta(minutes=2))])
    with sessions() as session:
        assert ledger.next_due(session, w48) is None
    held = claim(sessions, w48, limit=5, lease=60)
    assert [c.subscriber_id for c in held] == [101, 102]
    with sessions() as session:
        assert ledger.next_due(session, w47) == NOW + timedelta(minutes=2)
        assert ledger.next_due(session, w48) == NOW + timedelta(seconds=60)
    record(sessions, [Outcome(held[0].delivery_id, State.FAILED, 550, "refused in week 48")])
    with sessions() as session:
        assert ledger.failure_reasons(session, w47) == [("try later", 1)]
        assert ledger.failure_reasons(session, w48) == [("refused in week 48", 1)]


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


def test_each_outcome_is_written_whole_and_ends_the_lease(
        sessions: sessionmaker[Session], excerpts: list[Excerpt], recipients: SubscriberRecipients) -> None:
    issue_id, _ = open_w47(sessions, excerpts, recipients)
    a, b, c, d = (x.delivery_id for x in claim(sessions, issue_id, limit=4))
    done, later = NOW + timedelta(seconds=10), NOW + timedelta(minutes=5)
    record(sessions, [Outcome(a, State.SENT), Outcome(b, State.FAILED, 550, "mailbox unavailable"),
                      Outcome(c, State.DEFERRED, 451, "try later", next_attempt_at=later),
                      Outcome(d, State.SKIPPED, reason="gone")], done)
    assert row(sessions, a) == ("sent", None, None, done, None)
    assert row(sessions, b) == ("failed", 550, "mailbox unavailable", done, None)
    assert row(sessions, c) == ("deferred", 451, "try later", None, None)
    assert row(sessions, d) == ("skipped", None, "gone", done, None)
    # Sent on its retry: the deferral's code and reason are gone from the row.
    assert [x.delivery_id for x in claim(sessions, issue_id, limit=1, now=later)] == [c]
    record(sessions, [Outcome(c, State.SENT)], later)
    assert row(sessions, c) == ("sent", None, None, later, None)


def test_released_rows_go_back_untried(sessions: sessionmaker[Session], excerpts: list[Excerpt],
                                       recipients: SubscriberRecipients) -> None:
    issue_id, _ = open_w47(sessions, excerpts, recipients)
    held = claim(sessions, issue_id, limit=4)
    with sessions.begin() as session:
        ledger.release(session, [c.delivery_id for c in held])
    assert counts(sessions, issue_id) == {"pending": 12}
    assert {row(sessions, c.delivery_id) for c in held} == {("pending", None, None, None, None)}
    assert [c.attempts for c in claim(sessions, issue_id, limit=4)] == [1, 1, 1, 1]


def test_release_hands_back_only_the_named_rows_still_held(
        sessions: sessionmaker[Session], excerpts: list[Excerpt], recipients: SubscriberRecipients) -> None:
    issue_id, _ = open_w47(sessions, excerpts, recipients)
    mine, theirs = claim(sessions, issue_id, limit=3), claim(sessions, issue_id, limit=3)
    record(sessions, [Outcome(mine[0].delivery_id, State.SENT)])
    with sessions.begin() as session:
        ledger.release(session, [c.delivery_id for c in mine])
    assert counts(sessions, issue_id) == {"sent": 1, "pending": 8, "sending": 3}
    assert {row(sessions, c.delivery_id)[0] for c in theirs} == {"sending"}


def test_failure_reasons_are_the_twenty_most_common_then_alphabetical(
        sessions: sessionmaker[Session], excerpts: list[Excerpt]) -> None:
    issue_id = open_week(sessions, W48, excerpts, subscriber_ids(*range(1, 29)))
    rows = iter(c.delivery_id for c in claim(sessions, issue_id, limit=28))
    reasons = ["zone full"] * 3 + ["busy"] * 2 + ["all lines taken"] * 2 + [f"refused {n:02}" for n in range(1, 20)]
    later = NOW + timedelta(hours=1)
    outcomes = [Outcome(next(rows), State.FAILED if n % 2 else State.DEFERRED, 550, reason, later)
                for n, reason in enumerate(reasons)]
    # Neither a failure without a reason nor a skipped row's reason is a failure reason.
    outcomes += [Outcome(next(rows), State.FAILED, 550), Outcome(next(rows), State.SKIPPED, reason="gone")]
    record(sessions, outcomes)
    with sessions() as session:
        assert ledger.failure_reasons(session, issue_id) == [
            ("zone full", 3), ("all lines taken", 2), ("busy", 2), *((f"refused {n:02}", 1) for n in range(1, 18))]


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


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the quick path is SQLite's alone
def test_the_quick_record_on_the_driver_writes_exactly_what_record_writes(
        engine: Engine, sessions: sessionmaker[Session], excerpts: list[Excerpt],
        recipients: SubscriberRecipients) -> None:
    done, later = NOW + timedelta(seconds=10), NOW + timedelta(minutes=5, microseconds=1234)

    def outcomes(ids: list[int]) -> list[Outcome]:
        a, b, c, d = ids
        return [Outcome(a, State.SENT), Outcome(b, State.FAILED, 550, "mailbox unavailable"),
                Outcome(c, State.DEFERRED, 451, "try later", next_attempt_at=later),
                Outcome(d, State.SKIPPED, reason="gone")]

    def rows(ids: list[int]) -> list[tuple[object, ...]]:
        with sessions() as session:
            found = [session.get_one(DeliveryRow, id_) for id_ in ids]
            return [(r.state, r.code, r.reason, r.finished_at, r.lease_until, r.next_attempt_at) for r in found]

    issue_id, _ = open_w47(sessions, excerpts, recipients)
    by_record = [c.delivery_id for c in claim(sessions, issue_id, limit=4)]
    by_driver = [c.delivery_id for c in claim(sessions, issue_id, limit=4)]
    record(sessions, outcomes(by_record), done)
    with engine.connect() as connection:
        driver = connection.connection.dbapi_connection
        assert driver is not None
        cursor = driver.cursor()
        ledger.QuickRecord(engine.dialect)(cursor, outcomes(by_driver), done)
        driver.commit()
    assert rows(by_driver) == rows(by_record)
    assert [r[0] for r in rows(by_driver)] == [State.SENT, State.FAILED, State.DEFERRED, State.SKIPPED]
    with engine.connect() as connection:  # stored alike, byte for byte, not only read back alike
        stored = connection.exec_driver_sql(
            "SELECT state, code, reason, finished_at, lease_until, next_attempt_at FROM deliveries "
            f"WHERE id IN ({', '.join(map(str, by_record + by_driver))}) ORDER BY id").all()
    assert stored[:4] == stored[4:]


def test_a_readers_rows_are_found_by_index_not_by_reading_the_whole_ledger(sqlite_url: str) -> None:
    """The reader's download and erasure look a subscriber up across every issue: on a ledger of a
    million readers times many weeks a scan would take seconds per request."""
    engine = connect(sqlite_url)
    migrate(engine)
    statements: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "deliveries" in statement:
            statements.append((statement, parameters))

    with make_sessions(engine).begin() as session:
        ledger.deliveries_of(session, 42)
        ledger.forget_subscriber(session, 42)
    event.remove(engine, "before_cursor_execute", keep)
    assert len(statements) == 2
    with engine.connect() as conn:
        for statement, parameters in statements:
            plan = " ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
            assert "INDEX ix_deliveries_subscriber_id" in plan, (statement, plan)
    engine.dispose()


def test_a_late_outcome_changes_only_that_readers_sent_row_of_that_issue(
        sessions: sessionmaker[Session], excerpts: list[Excerpt]) -> None:
    w47 = open_week(sessions, W47, excerpts, subscriber_ids(1, 2, 3))
    w48 = open_week(sessions, W48, excerpts, subscriber_ids(1, 2, 3))
    for issue_id in (w47, w48):
        rows = claim(sessions, issue_id, limit=3)
        record(sessions, [Outcome(rows[0].delivery_id, State.SENT), Outcome(rows[1].delivery_id, State.SENT),
                          Outcome(rows[2].delivery_id, State.FAILED, 550, "refused")])
    later = NOW + timedelta(hours=3)

    def late(issue_id: int, subscriber_id: int, state: DeliveryState, reason: str) -> bool:
        with sessions.begin() as session:
            return ledger.record_late(session, issue_id, subscriber_id, state, reason, later)

    def states(issue_id: int) -> dict[int, tuple[str, str | None, datetime | None]]:
        with sessions() as session:
            found = session.query(DeliveryRow).filter(DeliveryRow.issue_id == issue_id)
            return {r.subscriber_id: (r.state.value, r.reason, r.finished_at and as_utc(r.finished_at))
                    for r in found}

    assert late(w47, 1, State.BOUNCED, "550 5.1.1 r***@example.com: no such user")
    assert not late(w47, 1, State.BOUNCED, "the same bounce again")  # already bounced: no change
    assert not late(w47, 3, State.BOUNCED, "a bounce of a message that was refused")  # failed stays failed
    assert late(w47, 1, State.COMPLAINED, "reported as spam")  # a bounced row can still be complained of
    assert not late(w47, 4, State.COMPLAINED, "a reader this issue never had")
    after_w47 = states(w47)
    assert after_w47[1] == ("complained", "reported as spam", later)
    assert after_w47[2][0] == "sent"
    assert after_w47[3] == ("failed", "refused", NOW)
    assert {reader: state for reader, (state, _, _) in states(w48).items()} == {
        1: "sent", 2: "sent", 3: "failed"}  # another issue: untouched
    with sessions.begin() as session, pytest.raises(ValueError, match="sent is not a late outcome"):
        ledger.record_late(session, w47, 2, State.SENT, "not late", later)
