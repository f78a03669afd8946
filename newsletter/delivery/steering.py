"""What a running send asks between batches: go on, pause, or cancel; and how it pauses itself.

The sender does not know where an issue's state is kept: it is handed a `Steering` and looks every
`check_seconds`, so a pause or a cancel given on any machine reaches every sender within about that
time (plus the one message each connection has in flight). `IssueSteering` is the real one: the issue's
state (`issues.life`), read from the database the senders share.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from newsletter.db.schema import utcnow
from newsletter.db.transient import patiently
from newsletter.errors import IssueStateError
from newsletter.issues import life
from newsletter.issues.tables import IssueState
from newsletter.weeks import IsoWeek

log = logging.getLogger(__name__)
SENDER = "sender"


class Course(enum.StrEnum):
    GO = "go"
    PAUSE = "pause"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Verdict:
    """What a send should do now, and why (for its log and its last line)."""

    course: Course
    reason: str = ""


class Steering(Protocol):
    async def look(self) -> Verdict:
        """Go on, pause or cancel: asked between batches, every `check_seconds`."""
        ...

    async def pause(self, reason: str) -> None:
        """The send pauses itself (too many refusals): record it where the people and other senders see it."""
        ...


class FreeRunning:
    """Steering for a send nobody steers (tests of the sender alone, `send --to`)."""

    async def look(self) -> Verdict:
        return Verdict(Course.GO)

    async def pause(self, reason: str) -> None:
        return None


class IssueSteering:
    """The week's issue state as the senders' steering; `tell` reaches the reviewers (subject, body)."""

    def __init__(self, sessions: sessionmaker[Session], week: IsoWeek, *,
                 tell: Callable[[str, str], Awaitable[None]] | None = None,
                 clock: Callable[[], datetime] = utcnow, patience: float = 60) -> None:
        self._sessions = sessions
        self._week = week
        self._tell = tell
        self._clock = clock
        self._patience = patience

    async def look(self) -> Verdict:
        # A database that is away for a moment is waited for, as the sender waits for it.
        status = await patiently(self._current, patience=self._patience, doing="reading the issue's state")
        if status is None:
            return Verdict(Course.GO)
        why = f" by {status.changed_by}" + (f": {status.reason}" if status.reason else "")
        if status.state is IssueState.PAUSED:
            return Verdict(Course.PAUSE, f"{self._week} was paused{why}; `newsletter issue resume` continues it")
        if status.state is IssueState.CANCELLED:
            return Verdict(Course.CANCEL, f"{self._week} was cancelled{why}; the rows not sent are skipped")
        return Verdict(Course.GO)

    async def pause(self, reason: str) -> None:
        try:
            await patiently(partial(self._pause, reason), patience=self._patience, doing="pausing the issue")
        except IssueStateError as error:  # paused or cancelled by someone else meanwhile: that stands
            log.info("the send did not pause %s itself: %s", self._week, error)
            return
        log.warning("send of %s paused itself: %s", self._week, reason,
                    extra={"event": "send.paused", "week": str(self._week)})
        if self._tell is not None:
            await self._tell(f"Paused: {self._week}",
                             f"The send of {self._week} paused itself: {reason}.\n\nNobody was marked bounced "
                             f"and the rows not sent wait. Check the relay, then run\n\n"
                             f"    newsletter issue resume --week {self._week}\n")

    def _current(self) -> life.IssueStatus | None:
        with self._sessions() as session:
            return life.current(session, self._week)

    def _pause(self, reason: str) -> None:
        with self._sessions.begin() as session:
            life.move(session, self._week, IssueState.PAUSED, by=SENDER, reason=reason, now=self._clock())
