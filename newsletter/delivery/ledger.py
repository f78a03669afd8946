"""The delivery ledger, the one owner of its table: one row per recipient of an issue, claimed in leased
batches by an owner (the sending process, `delivery.owners.Owner`) that renews the lease while it works.

Every state change is a short statement (a claim is up to three: taken over, then due, then pending
rows), so any number of workers, in any number of processes on any number of machines, can share one
send: on PostgreSQL a claim skips rows another worker holds (`FOR UPDATE SKIP LOCKED`); SQLite runs one
writer at a time, which gives the same guarantee. A `sending` row is taken from its owner only when its
lease lapsed (the owner stopped renewing it) or when the claimer names the owner as gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Select,
    Table,
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine.interfaces import DBAPICursor, Dialect
from sqlalchemy.orm import Session

from newsletter.db.schema import as_utc
from newsletter.delivery.glance import REASONS_SHOWN
from newsletter.delivery.tables import DeliveryRow, DeliveryState

State = DeliveryState


@dataclass(frozen=True)
class Claim:
    """A ledger row a worker now holds until its lease ends."""

    delivery_id: int
    subscriber_id: int
    attempts: int
    first_attempt_at: datetime


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed row."""

    delivery_id: int
    state: DeliveryState
    code: int | None = None
    reason: str | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class Holding:
    """The `sending` rows of an issue one owner holds, and when its lease on them ends."""

    owner: str | None  # None for rows claimed before claims had owners
    rows: int
    until: datetime


def snapshot(session: Session, issue_id: int, recipients: Select[int]) -> None:
    """One pending row per subscriber id that `recipients` selects (the confirmed, as `subscribers` says)."""
    chosen = recipients.subquery()
    session.execute(insert(DeliveryRow).from_select(
        ["issue_id", "subscriber_id", "state", "attempts"],
        select(literal(issue_id), chosen.c[0], literal(State.PENDING.value), literal(0))
        .order_by(chosen.c[0]),
    ))


def issues_with_work(session: Session) -> list[int]:
    """Ids of the issues that still have pending, claimed or deferred rows."""
    return list(session.scalars(select(DeliveryRow.issue_id).where(DeliveryRow.state.in_(
        [State.PENDING, State.SENDING, State.DEFERRED])).distinct()))


def claim(session: Session, issue_id: int, *, limit: int, lease_seconds: float, now: datetime,
          owner: str | None = None, takeover: Sequence[str] = ()) -> list[Claim]:
    """Hold up to `limit` due rows for `owner`: sending rows whose lease lapsed or whose owner is in
    `takeover` (known to be gone), deferred rows due again, then pending ones."""
    # One statement per state, each an in-order walk of the (issue_id, state, id) index: an OR across
    # the states makes both SQLite and PostgreSQL scan every row of the issue, sent ones included. Core
    # statements on the table, not the ORM's: a third of the time, and SQLite's write lock, which the
    # send's outcome commits wait for, is held that much less.
    lapsed = _ROWS.lease_until < now
    claims: list[Claim] = []
    for due in (
        # A sender that died holding rows: at-least-once, so they are tried again.
        and_(_ROWS.state == State.SENDING,
             or_(lapsed, _ROWS.owner.in_(takeover)) if takeover else lapsed),
        and_(_ROWS.state == State.DEFERRED, _ROWS.next_attempt_at <= now),
        _ROWS.state == State.PENDING,
    ):
        if len(claims) < limit:
            claims.extend(_claim_where(session, issue_id, due, limit - len(claims), lease_seconds, now, owner))
    return sorted(claims, key=lambda c: c.delivery_id)


def _claim_where(session: Session, issue_id: int, due: ColumnElement[bool], limit: int, lease_seconds: float,
                 now: datetime, owner: str | None) -> list[Claim]:
    ids = (
        select(_ROWS.id)
        .where(_ROWS.issue_id == issue_id, due)
        .order_by(_ROWS.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(_TABLE)
        .where(_ROWS.id.in_(ids.scalar_subquery()))
        .values(state=State.SENDING, attempts=_ROWS.attempts + 1, owner=owner,
                lease_until=now + timedelta(seconds=lease_seconds),
                first_attempt_at=func.coalesce(_ROWS.first_attempt_at, now))
        .returning(_ROWS.id, _ROWS.subscriber_id, _ROWS.attempts, _ROWS.first_attempt_at)
    ).all()
    return [Claim(id_, subscriber, tries, as_utc(first or now)) for id_, subscriber, tries, first in rows]


def renew(session: Session, issue_id: int, owner: str, delivery_ids: Iterable[int], until: datetime) -> set[int]:
    """Extend `owner`'s lease on those of `delivery_ids` it still holds to `until`; the ids it still holds."""
    ids = list(delivery_ids)
    if not ids:
        return set()
    return set(session.scalars(
        update(DeliveryRow)
        .where(DeliveryRow.id.in_(ids), DeliveryRow.issue_id == issue_id, DeliveryRow.state == State.SENDING,
               DeliveryRow.owner == owner)
        .values(lease_until=until)
        .returning(DeliveryRow.id)
        .execution_options(synchronize_session=False)
    ))


def holdings(session: Session, issue_id: int) -> list[Holding]:
    """Who holds the issue's `sending` rows, how many each, and until when (the latest of their leases)."""
    rows = session.execute(
        select(_ROWS.owner, func.count(), func.max(_ROWS.lease_until))
        .where(_ROWS.issue_id == issue_id, _ROWS.state == State.SENDING)
        .group_by(_ROWS.owner).order_by(_ROWS.owner)
    ).all()
    return [Holding(owner, int(n), as_utc(until)) for owner, n, until in rows if until is not None]


def record(executor: Session | Connection, outcomes: Iterable[Outcome], now: datetime) -> None:
    """Write the outcomes of claimed rows, in as few statements as there are kinds of outcome.

    Called for every few outcomes as they happen, so it is made cheap: Core statements compiled once, on
    a plain connection when the caller has one, and a commit that does not wait where that is safe. On
    PostgreSQL this transaction does not wait for the server's WAL flush (`synchronous_commit = off`: a
    crash of the database server itself may lose its last fraction of a second of outcomes, and those
    messages are sent again); SQLite runs in WAL mode with synchronous=NORMAL (`db/engine.py`), which
    survives any crash of ours and loses the last commits only to a crash of the machine.
    """
    outcomes = list(outcomes)
    sent = [o.delivery_id for o in outcomes if o.state is State.SENT]
    others = [o for o in outcomes if o.state is not State.SENT]
    dialect = executor.dialect if isinstance(executor, Connection) else executor.get_bind().dialect
    if dialect.name == "postgresql":
        executor.execute(text("SET LOCAL synchronous_commit = off"))
    if sent:
        executor.execute(_RECORD_SENT, {"ids": sent, "now": now})
    if others:
        executor.execute(_RECORD_ONE, [
            {"row": o.delivery_id, "new_state": o.state, "new_code": o.code, "new_reason": o.reason,
             "retry_at": o.next_attempt_at, "done_at": None if o.state is State.DEFERRED else now}
            for o in others
        ])


class QuickRecord:
    """`record` on the database driver's own connection, for SQLite's outcome commits on the event loop.

    Outcomes are committed every few messages, and at that pace SQLAlchemy's work per statement (its
    parameters, result and transaction objects) costs more than SQLite's write itself. This runs the same
    UPDATE as `record`, compiled once by SQLAlchemy for the dialect, with each value converted by its
    column's own bind processor, so the rows read back exactly as if SQLAlchemy had written them.
    """

    def __init__(self, dialect: Dialect) -> None:
        if dialect.paramstyle != "qmark":
            raise ValueError(f"QuickRecord is for SQLite's driver, not {dialect.name} ({dialect.paramstyle})")
        compiled = _RECORD_ONE.compile(dialect=dialect)
        self._sql = str(compiled)
        self._order = tuple(compiled.positiontup or ())
        self._fixed = compiled.params  # the statement's own constants (lease_until=None)
        self._state = _ROWS.state.type.dialect_impl(dialect).bind_processor(dialect) or _same
        self._time = _ROWS.finished_at.type.dialect_impl(dialect).bind_processor(dialect) or _same

    def __call__(self, cursor: DBAPICursor, outcomes: Sequence[Outcome], now: datetime) -> None:
        """Write `outcomes` through `cursor`; the caller commits."""
        time = self._time
        rows = []
        for o in outcomes:
            values = {**self._fixed, "row": o.delivery_id, "new_state": self._state(o.state), "new_code": o.code,
                      "new_reason": o.reason, "retry_at": time(o.next_attempt_at) if o.next_attempt_at else None,
                      "done_at": None if o.state is State.DEFERRED else time(now)}
            rows.append(tuple(values[name] for name in self._order))
        cursor.executemany(self._sql, rows)


def _same(value: Any) -> Any:
    return value


_TABLE = cast(Table, DeliveryRow.__table__)
_ROWS = _TABLE.c
_RECORD_SENT = (update(_TABLE).where(_ROWS.id.in_(bindparam("ids", expanding=True)))
                .values(state=State.SENT, finished_at=bindparam("now"), lease_until=None, code=None, reason=None))
_RECORD_ONE = (update(_TABLE).where(_ROWS.id == bindparam("row"))
               .values(state=bindparam("new_state"), code=bindparam("new_code"), reason=bindparam("new_reason"),
                       next_attempt_at=bindparam("retry_at"), finished_at=bindparam("done_at"), lease_until=None))


def release(session: Session, delivery_ids: Sequence[int]) -> None:
    """Hand claimed rows back untried (on shutdown), so another worker takes them at once."""
    if delivery_ids:
        session.execute(update(DeliveryRow).where(DeliveryRow.id.in_(delivery_ids),
                                                  DeliveryRow.state == State.SENDING)
                        .values(state=State.PENDING, lease_until=None, owner=None,
                                attempts=DeliveryRow.attempts - 1)
                        .execution_options(synchronize_session=False))


def skip_unsent(session: Session, issue_id: int, reason: str) -> int:
    """The issue was cancelled: every row not sent and not claimed ends skipped with `reason`; how many.

    Rows a live sender holds are left to it: it hands them back as it stops, and skips them then.
    """
    done = session.execute(update(DeliveryRow).where(
        DeliveryRow.issue_id == issue_id, DeliveryRow.state.in_([State.PENDING, State.DEFERRED]))
        .values(state=State.SKIPPED, reason=reason, lease_until=None, next_attempt_at=None)
        .execution_options(synchronize_session=False))
    return cast(CursorResult[Any], done).rowcount


def counts(session: Session, issue_id: int) -> dict[DeliveryState, int]:
    """Rows per state; every state is present."""
    found = dict(session.execute(select(DeliveryRow.state, func.count()).where(
        DeliveryRow.issue_id == issue_id).group_by(DeliveryRow.state)).all())
    return {state: found.get(state, 0) for state in State}


def failure_reasons(session: Session, issue_id: int, limit: int = REASONS_SHOWN) -> list[tuple[str, int]]:
    """The most common reasons rows failed or are deferred, with how many rows each."""
    rows = session.execute(
        select(DeliveryRow.reason, func.count())
        .where(DeliveryRow.issue_id == issue_id,
               DeliveryRow.state.in_([State.FAILED, State.DEFERRED]), DeliveryRow.reason.is_not(None))
        .group_by(DeliveryRow.reason).order_by(func.count().desc(), DeliveryRow.reason).limit(limit)
    ).all()
    return [(str(reason), int(n)) for reason, n in rows]


def next_retry(session: Session, issue_id: int) -> datetime | None:
    """When the earliest deferred row comes due; None when none is deferred."""
    deferred = session.scalar(select(func.min(DeliveryRow.next_attempt_at)).where(
        DeliveryRow.issue_id == issue_id, DeliveryRow.state == State.DEFERRED))
    return None if deferred is None else as_utc(deferred)


def next_due(session: Session, issue_id: int) -> datetime | None:
    """When the earliest deferred or leased row becomes claimable again; None when none is waiting."""
    leased = session.scalar(select(func.min(DeliveryRow.lease_until)).where(
        DeliveryRow.issue_id == issue_id, DeliveryRow.state == State.SENDING))
    waiting = [t for t in (next_retry(session, issue_id), leased and as_utc(leased)) if t is not None]
    return min(waiting) if waiting else None


def deliveries_of(session: Session, subscriber_id: int) -> list[tuple[int, DeliveryState, datetime | None]]:
    """Every row of one subscriber, as (issue id, state, finished at), oldest issue first (the reader's
    download of what is kept)."""
    rows = session.execute(select(DeliveryRow.issue_id, DeliveryRow.state, DeliveryRow.finished_at)
                           .where(DeliveryRow.subscriber_id == subscriber_id).order_by(DeliveryRow.issue_id)).all()
    return [(issue_id, state, finished and as_utc(finished)) for issue_id, state, finished in rows]


def forget_subscriber(session: Session, subscriber_id: int) -> int:
    """Delete every row of one subscriber, in every issue (`subscribers erase`); returns how many."""
    return session.query(DeliveryRow).filter(DeliveryRow.subscriber_id == subscriber_id).delete(
        synchronize_session=False)


def was_sent(session: Session, issue_id: int, subscriber_id: int) -> bool:
    """Whether the issue's message to this subscriber left us (so a bounce of it can be genuine)."""
    return session.scalar(select(DeliveryRow.id).where(
        DeliveryRow.issue_id == issue_id, DeliveryRow.subscriber_id == subscriber_id,
        DeliveryRow.state.in_([State.SENT, State.BOUNCED, State.COMPLAINED]))) is not None


def record_late(session: Session, issue_id: int, subscriber_id: int, state: DeliveryState, reason: str,
                now: datetime) -> bool:
    """A late outcome that came back by mail: a `sent` row becomes `bounced` or `complained` (a bounced
    one can still become `complained`), with the redacted reason. Whether the row changed."""
    if state not in (State.BOUNCED, State.COMPLAINED):
        raise ValueError(f"{state} is not a late outcome")
    before = [State.SENT] if state is State.BOUNCED else [State.SENT, State.BOUNCED]
    result = session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.issue_id == issue_id, DeliveryRow.subscriber_id == subscriber_id,
               DeliveryRow.state.in_(before))
        .values(state=state, reason=reason, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return cast("CursorResult[Any]", result).rowcount == 1
