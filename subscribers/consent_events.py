"""The consent record's history: what happened to a subscription and when: confirmed, paused,
resumed, left by link, page or mail, bounced, complained, address changed.

Rows name the subscriber, the action and a short detail ("2 weeks"); never an IP address, a browser or the
address itself. They go when the subscriber is erased.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, delete, insert, select

from newsletter.translations import N_
from subscribers.tables import ConsentEventRow, as_utc

EVENTS = cast(Table, ConsentEventRow.__table__)
# The details are stored in English (the download shows them as stored); the page translates them.
CHANGE_ASKED = N_("a new address, not yet confirmed")
OWN_PAGE = N_("own page")
CONFIRMATION_LINK = N_("confirmation link")
UNSUBSCRIBE_LINK = N_("unsubscribe link")
REFUSED = N_("refused by the receiving server")
BY_MAIL = N_("a mail to the unsubscribe address")
COMPLAINT = N_("a complaint")
RETURNED = N_("returned mail")
NEW_ADDRESS_CONFIRMED = N_("confirmed by the new address")
_PAUSE = re.compile(r"(\d+) weeks?")


def pause_detail(weeks: int) -> str:
    """A pause's detail as stored: "1 week", "4 weeks"."""
    return f"{weeks} week{'s' if weeks > 1 else ''}"


def paused_weeks(detail: str) -> int | None:
    """The weeks a pause's stored detail names, or None when it is not one."""
    found = _PAUSE.fullmatch(detail)
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class Event:
    """One recorded action."""

    action: str
    detail: str | None
    at: datetime


def note_action(conn: Connection, subscriber_id: int, action: str, now: datetime, detail: str | None = None) -> None:
    """Record `action` inside the caller's transaction, so it exists exactly when the change does."""
    conn.execute(insert(EVENTS).values(subscriber_id=subscriber_id, action=action, detail=detail, at=now))


def note_actions(conn: Connection, subscriber_ids: Sequence[int], action: str, now: datetime,
                 detail: str | None = None) -> None:
    """`note_action` for several subscribers at once."""
    if subscriber_ids:
        conn.execute(insert(EVENTS), [{"subscriber_id": subscriber_id, "action": action, "detail": detail,
                                       "at": now} for subscriber_id in subscriber_ids])


def history(conn: Connection, subscriber_id: int) -> list[Event]:
    """Every recorded action of one subscriber, oldest first."""
    rows = conn.execute(select(EVENTS.c.action, EVENTS.c.detail, EVENTS.c.at)
                        .where(EVENTS.c.subscriber_id == subscriber_id).order_by(EVENTS.c.id)).all()
    return [Event(row.action, row.detail, as_utc(row.at)) for row in rows]


def forget_history(conn: Connection, subscriber_id: int) -> None:
    """Delete one subscriber's history (erase)."""
    conn.execute(delete(EVENTS).where(EVENTS.c.subscriber_id == subscriber_id))
