"""The durable outbox of transactional mail: queue in the sign-up's transaction, claim, record outcomes.

A row names a subscriber and a kind of mail, never an address or a message: the worker builds the message
at send time from the sealed address, so the table holds nothing worth stealing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Engine, Table, and_, delete, func, insert, or_, select, update

from subscribers.tables import MailState, OutboxRow, utcnow

MAIL = cast(Table, OutboxRow.__table__)
CONFIRM = "confirm"
CHANGE = "change"  # the confirmation of a new address a reader asked for on their own page
WELCOME = "welcome"  # the latest issue, to a reader who just confirmed (`[subscribers] welcome = "latest"`)
_QUEUE = insert(MAIL)  # built once: its compiled form is reused by every sign-up
_OPEN = (MailState.PENDING, MailState.SENDING)
_ANY_ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+")


@dataclass(frozen=True, order=True)
class Claimed:
    """A mail this worker now holds until its lease ends."""

    id: int
    subscriber_id: int
    kind: str
    attempts: int
    created_at: datetime


def queue(conn: Connection, subscriber_id: int, now: datetime, kind: str = CONFIRM) -> None:
    """Queue one mail inside the caller's transaction: it exists exactly when the change it announces."""
    conn.execute(_QUEUE, {"subscriber_id": subscriber_id, "kind": kind, "state": MailState.PENDING,
                          "attempts": 0, "next_attempt_at": now, "created_at": now})


def cancel(conn: Connection, subscriber_id: int, now: datetime) -> None:
    """Drop a subscriber's mail that has not gone out yet."""
    conn.execute(update(MAIL).where(MAIL.c.subscriber_id == subscriber_id, MAIL.c.state == MailState.PENDING)
                 .values(state=MailState.CANCELLED, finished_at=now))


def forget_finished(conn: Connection, before: datetime) -> None:
    """Delete rows that finished before `before`; they only served to answer "was it sent?"."""
    conn.execute(delete(MAIL).where(MAIL.c.state.not_in(_OPEN), MAIL.c.finished_at < before))


def scrub(text: str) -> str:
    """An error text fit to store: servers quote the recipient in replies, so every address goes."""
    return _ANY_ADDRESS.sub("<address>", text)[:500]


@dataclass(frozen=True)
class MailOutcome:
    """How one attempt went: SENT, FAILED, CANCELLED, or PENDING to try again after `retry_in`."""

    mail_id: int
    state: MailState
    error: str | None = None
    retry_in: timedelta = timedelta(0)


class Outbox:
    """The worker's side of the table."""

    def __init__(self, engine: Engine, now: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.now = now

    def claim(self, limit: int, lease: timedelta) -> list[Claimed]:
        """Take up to `limit` due mails (and any whose holder's lease ran out) for `lease`, oldest first."""
        now = self.now()
        due = or_(and_(MAIL.c.state == MailState.PENDING, MAIL.c.next_attempt_at <= now),
                  and_(MAIL.c.state == MailState.SENDING, MAIL.c.lease_until < now))
        with self.engine.begin() as conn:
            ids = conn.execute(select(MAIL.c.id).where(due).order_by(MAIL.c.id).limit(limit)
                               .with_for_update(skip_locked=True)).scalars().all()
            if not ids:
                return []
            # Conditional, so two workers on SQLite (where FOR UPDATE is a no-op) never share a row:
            # RETURNING names exactly the rows this one took.
            rows = conn.execute(
                update(MAIL).where(MAIL.c.id.in_(ids), due)
                .values(state=MailState.SENDING, lease_until=now + lease, attempts=MAIL.c.attempts + 1)
                .returning(MAIL.c.id, MAIL.c.subscriber_id, MAIL.c.kind, MAIL.c.attempts, MAIL.c.created_at)
            ).all()
        return sorted(Claimed(r.id, r.subscriber_id, r.kind, r.attempts, r.created_at) for r in rows)

    def record(self, outcomes: Sequence[MailOutcome]) -> None:
        """Write down how a batch of attempts went, in one transaction."""
        if not outcomes:
            return
        now = self.now()
        with self.engine.begin() as conn:
            for outcome in outcomes:
                error = None if outcome.error is None else scrub(outcome.error)
                values: dict[str, object] = {"state": outcome.state, "lease_until": None, "last_error": error}
                if outcome.state is MailState.PENDING:
                    values["next_attempt_at"] = now + outcome.retry_in
                else:
                    values["finished_at"] = now
                conn.execute(update(MAIL).where(MAIL.c.id == outcome.mail_id, MAIL.c.state == MailState.SENDING)
                             .values(values))

    def counts(self) -> dict[MailState, int]:
        """How many mails are in each state; every state is present."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(MAIL.c.state, func.count()).group_by(MAIL.c.state)).all()
        found = {MailState(state): count for state, count in rows}
        return {state: found.get(state, 0) for state in MailState}

    def next_due(self) -> datetime | None:
        """When the earliest waiting mail is due, if any."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.min(MAIL.c.next_attempt_at))
                                .where(MAIL.c.state == MailState.PENDING)).scalar()
