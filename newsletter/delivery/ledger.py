"""The delivery ledger, the one owner of its table: one row per recipient of an issue, claimed in leased
batches.

Every state change is a short statement (a claim is up to three: lapsed, then due, then pending rows),
so any number of workers, in any number of processes on any number of machines, can share one send:
on PostgreSQL a claim skips rows another worker holds (`FOR UPDATE SKIP LOCKED`); SQLite runs one
writer at a time, which gives the same guarantee.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, insert, literal, select, update
from sqlalchemy.orm import Session

from newsletter.db.schema import as_utc
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


def claim(session: Session, issue_id: int, *, limit: int, lease_seconds: float, now: datetime) -> list[Claim]:
    """Hold up to `limit` due rows: sending with a lapsed lease, deferred and due again, then pending."""
    # One statement per state, each an in-order walk of the (issue_id, state, id) index: an OR across
    # the states makes both SQLite and PostgreSQL scan every row of the issue, sent ones included.
    claims: list[Claim] = []
    for due in (
        # A worker that died holding rows: at-least-once, so they are tried again.
        and_(DeliveryRow.state == State.SENDING, DeliveryRow.lease_until < now),
        and_(DeliveryRow.state == State.DEFERRED, DeliveryRow.next_attempt_at <= now),
        DeliveryRow.state == State.PENDING,
    ):
        if len(claims) < limit:
            claims.extend(_claim_where(session, issue_id, due, limit - len(claims), lease_seconds, now))
    return sorted(claims, key=lambda c: c.delivery_id)


def _claim_where(session: Session, issue_id: int, due: ColumnElement[bool], limit: int, lease_seconds: float,
                 now: datetime) -> list[Claim]:
    ids = (
        select(DeliveryRow.id)
        .where(DeliveryRow.issue_id == issue_id, due)
        .order_by(DeliveryRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id.in_(ids.scalar_subquery()))
        .values(state=State.SENDING, attempts=DeliveryRow.attempts + 1,
                lease_until=now + timedelta(seconds=lease_seconds),
                first_attempt_at=func.coalesce(DeliveryRow.first_attempt_at, now))
        .returning(DeliveryRow.id, DeliveryRow.subscriber_id, DeliveryRow.attempts,
                   DeliveryRow.first_attempt_at)
        .execution_options(synchronize_session=False)
    ).all()
    return [Claim(id_, subscriber, tries, as_utc(first or now)) for id_, subscriber, tries, first in rows]


def record(session: Session, outcomes: Iterable[Outcome], now: datetime) -> None:
    """Write the outcomes of claimed rows, in as few statements as there are kinds of outcome."""
    sent = [o.delivery_id for o in outcomes if o.state is State.SENT]
    others = [o for o in outcomes if o.state is not State.SENT]
    if sent:
        session.execute(update(DeliveryRow).where(DeliveryRow.id.in_(sent))
                        .values(state=State.SENT, finished_at=now, lease_until=None, code=None, reason=None)
                        .execution_options(synchronize_session=False))
    if others:
        # ORM bulk UPDATE by primary key: one executemany for the whole batch.
        session.execute(update(DeliveryRow), [
            {"id": o.delivery_id, "state": o.state, "code": o.code, "reason": o.reason,
             "next_attempt_at": o.next_attempt_at, "lease_until": None,
             "finished_at": None if o.state is State.DEFERRED else now}
            for o in others
        ])


def release(session: Session, delivery_ids: Sequence[int]) -> None:
    """Hand claimed rows back untried (on shutdown), so another worker takes them at once."""
    if delivery_ids:
        session.execute(update(DeliveryRow).where(DeliveryRow.id.in_(delivery_ids),
                                                  DeliveryRow.state == State.SENDING)
                        .values(state=State.PENDING, lease_until=None, attempts=DeliveryRow.attempts - 1)
                        .execution_options(synchronize_session=False))


def counts(session: Session, issue_id: int) -> dict[DeliveryState, int]:
    """Rows per state; every state is present."""
    found = dict(session.execute(select(DeliveryRow.state, func.count()).where(
        DeliveryRow.issue_id == issue_id).group_by(DeliveryRow.state)).all())
    return {state: found.get(state, 0) for state in State}


def failure_reasons(session: Session, issue_id: int, limit: int = 20) -> list[tuple[str, int]]:
    """The most common reasons rows failed or are deferred, with how many rows each."""
    rows = session.execute(
        select(DeliveryRow.reason, func.count())
        .where(DeliveryRow.issue_id == issue_id,
               DeliveryRow.state.in_([State.FAILED, State.DEFERRED]), DeliveryRow.reason.is_not(None))
        .group_by(DeliveryRow.reason).order_by(func.count().desc(), DeliveryRow.reason).limit(limit)
    ).all()
    return [(str(reason), int(n)) for reason, n in rows]


def next_due(session: Session, issue_id: int) -> datetime | None:
    """When the earliest deferred or leased row becomes claimable again; None when none is waiting."""
    deferred = session.scalar(select(func.min(DeliveryRow.next_attempt_at)).where(
        DeliveryRow.issue_id == issue_id, DeliveryRow.state == State.DEFERRED))
    leased = session.scalar(select(func.min(DeliveryRow.lease_until)).where(
        DeliveryRow.issue_id == issue_id, DeliveryRow.state == State.SENDING))
    waiting = [as_utc(t) for t in (deferred, leased) if t is not None]
    return min(waiting) if waiting else None


def forget_subscriber(session: Session, subscriber_id: int) -> int:
    """Delete every row of one subscriber, in every issue (`subscribers erase`); returns how many."""
    return session.query(DeliveryRow).filter(DeliveryRow.subscriber_id == subscriber_id).delete(
        synchronize_session=False)
