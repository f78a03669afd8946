"""The heartbeat of a send: its owner renews the lease of every row it holds, every third of the lease, so
no other sender takes a live sender's rows however long a batch takes (a slow relay, a low rate).

Before each message a worker makes sure the lease is fresh (renewing at once when the heartbeat is late,
as when the database was away) and that the row is still its own: a row another sender took while the
lease had lapsed is left to that sender. Each tick also counts the senders holding rows of the issue, so
a configured rate is shared among them (`Transport.share`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from newsletter.db.transient import Patient
from newsletter.delivery import ledger
from newsletter.delivery.ledger import Holding
from newsletter.delivery.owners import Owner

log = logging.getLogger(__name__)
_LONGEST_TICK = 0.5  # seconds between looks at who shares the issue (a read of its few `sending` rows)


def gone(holdings: Iterable[Holding], here: Owner) -> list[str]:
    """The owners among `holdings` known to have died (on this host): their rows can be taken at once."""
    found = []
    for holding in holdings:
        owner = Owner.parse(holding.owner or "")
        if owner is not None and owner != here and owner.gone(here):
            found.append(str(owner))
    return found


def sharing(holdings: Sequence[Holding], here: Owner, now: datetime) -> int:
    """How many live senders hold rows of the issue, `here` included."""
    dead = set(gone(holdings, here))
    return len({h.owner for h in holdings if h.owner and h.until >= now and h.owner not in dead} | {str(here)})


class LeaseKeeper:
    """Renews `owner`'s lease on the rows in `held`; `run` is the heartbeat, `still_mine` the worker's check."""

    def __init__(self, sessions: sessionmaker[Session], issue_id: int, owner: Owner, lease_seconds: float, *,
                 clock: Callable[[], datetime], patient: Patient, share: Callable[[int], None],
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._sessions = sessions
        self._issue_id = issue_id
        self._owner = owner
        self._lease = lease_seconds
        self._clock = clock
        self._patient = patient
        self._share = share
        self._monotonic = monotonic
        self.held: set[int] = set()
        self._fresh_until = monotonic() + lease_seconds  # the earliest lease end among held rows
        self._renewing = asyncio.Lock()

    @property
    def period(self) -> float:
        return self._lease / 3

    def hold(self, delivery_ids: Iterable[int], claimed_at: float) -> None:
        """Rows just claimed at `claimed_at` (monotonic, taken before the claim)."""
        if not self.held:
            self._fresh_until = claimed_at + self._lease
        self.held.update(delivery_ids)

    def drop(self, delivery_ids: Iterable[int]) -> None:
        """Rows done or handed back."""
        self.held.difference_update(delivery_ids)

    async def still_mine(self, delivery_id: int) -> bool:
        """Whether the row may be sent now: renew first when the heartbeat is a period late."""
        if self._monotonic() > self._fresh_until - self.period:
            await self.renew()
        return delivery_id in self.held

    async def renew(self) -> None:
        """Extend the lease of every held row; rows no longer ours are dropped (another sender has them)."""
        async with self._renewing:
            started = self._monotonic()
            if started < self._fresh_until - 2 * self.period:
                return  # renewed while this call waited for the lock
            held = set(self.held)
            until = self._clock() + timedelta(seconds=self._lease)
            kept = await self._patient(lambda: self._renew(held, until), "renewing the leases of claimed rows")
            lost = (held - kept) & self.held  # rows done or handed back meanwhile are not lost
            if lost:
                log.warning("%d claimed row(s) were taken by another sender while this one could not renew "
                            "their lease; it leaves them to that sender", len(lost),
                            extra={"event": "send.rows_lost", "rows": len(lost)})
                self.held.difference_update(lost)
            self._fresh_until = started + self._lease

    async def run(self, halt: asyncio.Event) -> None:
        """Renew every third of the lease and look at who shares the issue every tick, until `halt`."""
        tick = min(self.period, _LONGEST_TICK)
        due = self._monotonic() + self.period
        while not halt.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(halt.wait(), timeout=tick)
            if halt.is_set():
                return
            if self._monotonic() >= due:
                await self.renew()
                due = self._monotonic() + self.period
            holdings = await self._patient(self._holdings, "looking at who shares the send")
            self._share(sharing(holdings, self._owner, self._clock()))

    def _renew(self, held: set[int], until: datetime) -> set[int]:
        if not held:
            return set()
        with self._sessions.begin() as session:
            return ledger.renew(session, self._issue_id, str(self._owner), held, until)

    def _holdings(self) -> list[Holding]:
        with self._sessions() as session:
            return ledger.holdings(session, self._issue_id)
