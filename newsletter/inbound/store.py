"""Returned mail as handled, the one owner of its table: what was done with each message, soft bounces
counted per subscriber, and how many messages of each kind came back."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter.inbound.tables import Handling, ReturnRow


def already_handled(session: Session, digest: str) -> bool:
    """Whether this very message was handled before."""
    return session.scalar(select(ReturnRow.id).where(ReturnRow.digest == digest)) is not None


def record_handling(session: Session, digest: str, handling: Handling, now: datetime, *,
                    subscriber_id: int | None = None, issue_id: int | None = None, reason: str | None = None) -> bool:
    """Record how a message was handled; False when it had been (a concurrent handler won)."""
    try:
        with session.begin_nested():
            session.execute(insert(ReturnRow).values(digest=digest, handling=handling, subscriber_id=subscriber_id,
                                                     issue_id=issue_id, reason=reason, received_at=now))
    except IntegrityError:
        return False
    return True


def soft_bounces(session: Session, subscriber_id: int, since: datetime) -> int:
    """Temporary bounces of one subscriber received since `since`."""
    return int(session.scalar(select(func.count()).select_from(ReturnRow).where(
        ReturnRow.subscriber_id == subscriber_id, ReturnRow.handling == Handling.SOFT_BOUNCE,
        ReturnRow.received_at >= since)) or 0)


def handled_counts(session: Session) -> dict[Handling, int]:
    """Returned messages by how they were handled; every kind is present."""
    found = dict(session.execute(select(ReturnRow.handling, func.count()).group_by(ReturnRow.handling)).all())
    return {handling: int(found.get(handling, 0)) for handling in Handling}


def forget_returns(session: Session, subscriber_id: int) -> int:
    """Delete what is kept about one subscriber's returned mail (`subscribers erase`); how many rows."""
    result = session.execute(delete(ReturnRow).where(ReturnRow.subscriber_id == subscriber_id))
    return int(cast(CursorResult[Any], result).rowcount)
