"""The subscriber list: sign up, confirm, unsubscribe, look up, erase and count; addresses only ever sealed.

Every change is one conditional statement (`... WHERE status = <what we read>`), so two requests racing on
one row cannot both win, on SQLite and on PostgreSQL alike; the loser reads again and answers from there.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Engine, Row, Select, Table, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from newsletter.db.transient import is_transient
from subscribers import consent_events, outbox, signups
from subscribers.crypto import AddressCrypto
from subscribers.errors import StoreError
from subscribers.states import SUPPRESSION_FORM
from subscribers.tables import SUPPRESSED, Status, SubscriberRow, as_utc, utcnow
from subscribers.tokens import new_nonce

if TYPE_CHECKING:  # email-validator is for checking addresses, not for sending to stored ones
    from subscribers.addresses import Address

T = cast(Table, SubscriberRow.__table__)
RESEND_AFTER = timedelta(hours=1)
RESUBSCRIBE_AFTER = timedelta(days=30)
_ATTEMPTS = 3
# The sign-up's statements, built once: SQLAlchemy then reuses their compiled form on every call.
_FIND = select(T.c.id, T.c.status, T.c.mailed_at, T.c.unsubscribed_at, T.c.bounced_at).where(
    T.c.blind_index == bindparam("index"))
_ADD = insert(T).returning(T.c.id)
# Wiping an address wipes a new one waiting for its confirmation too.
NO_CHANGE: dict[str, Any] = {"new_address": None, "new_blind_index": None, "change_mailed_at": None}
# What the consent record says when returned mail ends a subscription.
_BY_MAIL = {Status.UNSUBSCRIBED: consent_events.BY_MAIL, Status.COMPLAINED: consent_events.COMPLAINT,
            Status.BOUNCED: consent_events.RETURNED}


@dataclass(frozen=True)
class Consent:
    """How consent was asked for: the form, the version of its text, and an admin's note for imports."""

    form: str
    text_version: str
    note: str | None = None


class SignUp(enum.StrEnum):
    """What a sign-up did. Internal: the web answers every one of them the same way."""

    NEW = "new"
    MAILED_AGAIN = "mailed-again"
    RECENTLY_MAILED = "recently-mailed"
    RESTARTED = "restarted"
    ALREADY_CONFIRMED = "already-confirmed"
    SUPPRESSED = "suppressed"
    CONFIRMED = "confirmed"
    LIMITED = "limited"  # dropped: its mailbox or domain had its hourly share of sign-ups


class Action(enum.StrEnum):
    """What a confirm or unsubscribe did."""

    DONE = "done"
    ALREADY = "already"
    STALE = "stale"   # the token belongs to an earlier subscription of this row
    GONE = "gone"     # no such subscriber (erased, or purged before confirming)


class Change(enum.StrEnum):
    """What a request for a new address did. Internal: the page answers every one of them the same way."""

    MAILED = "mailed"
    RECENTLY_MAILED = "recently-mailed"  # one confirmation an hour per subscription, whatever the address
    ON_THE_LIST = "on-the-list"          # the new address already has a row: nothing is sent to it
    SAME = "same"
    NOT_CONFIRMED = "not-confirmed"


def change_nonce(nonce: str, new_blind_index: str) -> str:
    """The nonce a change link carries: tied to the subscription and to the one new address it confirms,
    so a link mailed to one address can never confirm another asked for later."""
    return hashlib.sha256(f"{nonce}\0{new_blind_index}".encode()).hexdigest()[:16]


class _Raced(Exception):
    """Another request changed the row between our read and our write."""


@contextmanager
def _database() -> Iterator[None]:
    try:
        yield
    except DBAPIError as error:
        # The driver's message can quote statement parameters; name only the kind of failure.
        raise StoreError(f"the subscriber database failed ({type(error.orig).__name__}); "
                         "check that it is reachable and that `newsletter init` has run",
                         transient=is_transient(error)) from None


def confirmed_ids(now: datetime | None = None) -> Select[int]:
    """A SELECT of the confirmed subscribers' ids, for the ledger's snapshot (no address in it).

    With `now`, readers who paused until a later moment are left out: the snapshot skips them, and the
    first snapshot after their pause ends takes them again.
    """
    query = select(T.c.id).where(T.c.status == Status.CONFIRMED)
    if now is None:
        return query
    return query.where(or_(T.c.paused_until.is_(None), T.c.paused_until <= now))


@dataclass(frozen=True)
class Kept:
    """Everything stored about one subscriber, the address opened: what their own page shows and hands over."""

    subscriber_id: int
    address: str | None
    status: Status
    consent_form: str
    consent_text_version: str
    consent_note: str | None
    consent_at: datetime | None
    signed_up_at: datetime
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None
    bounced_at: datetime | None
    paused_until: datetime | None
    created_at: datetime
    updated_at: datetime
    new_address: str | None  # asked for on their page, not yet confirmed
    events: tuple[consent_events.Event, ...]


def sealed_sample(engine: Engine) -> tuple[bytes, str] | None:
    """One stored (sealed address, blind index), to try a key on; None when no address is stored."""
    with _database(), engine.connect() as conn:
        row = conn.execute(select(T.c.address, T.c.blind_index).where(T.c.address.is_not(None))
                           .order_by(T.c.id).limit(1)).first()
    return None if row is None else (row.address, row.blind_index)


class SubscriberStore:
    """The list on one database; `crypto` seals addresses and computes their blind index."""

    def __init__(self, engine: Engine, crypto: AddressCrypto, now: Callable[[], datetime] = utcnow, *,
                 resubscribe_after: timedelta = RESUBSCRIBE_AFTER, welcome: bool = False) -> None:
        self.engine = engine
        self.crypto = crypto
        self.now = now
        self.resubscribe_after = resubscribe_after
        self.welcome = welcome  # queue the welcome mail (the latest issue) in the confirmation's transaction

    def sign_up(self, address: Address, consent: Consent, *, restart_suppressed: bool = True) -> SignUp:
        """Record a sign-up and queue a confirmation email when one is due (at most one an hour).

        An unsubscribed or bounced address starts a new subscription (new nonce) only when
        `restart_suppressed`: true for the person at the form, false for an admin's import. Even then it
        gets at most one confirmation email per `resubscribe_after` until it is confirmed: the first
        after it left, then no other within that period, so a form cannot be used to mail it again and again.
        """
        return self._retry(lambda conn, index: self._sign_up(
            conn, index, self.crypto.seal(address.deliver, index), consent, restart_suppressed), address)

    def queue_sign_ups(self, requests: Sequence[tuple[Address, Consent]]) -> list[None]:
        """Queue sign-ups from the form for the worker: one INSERT for a burst, whatever the addresses are."""
        now = self.now()
        queued = []
        for address, consent in requests:
            index = self.crypto.blind_index(address.lookup)
            queued.append(signups.Queued(index, self.crypto.seal(address.deliver, index), consent.form,
                                         consent.text_version, now))
        with _database(), self.engine.begin() as conn:
            signups.append(conn, queued)
        return [None] * len(queued)

    def act_on_sign_ups(self, limit: int, admit: Callable[[str], bool] = lambda address: True) -> list[SignUp]:
        """Do what up to `limit` queued sign-ups ask, oldest first, in one transaction; [] when none wait.

        `admit(address)` may refuse one (rate limits): it is then dropped as LIMITED. If another worker
        added one of the addresses meanwhile, the transaction is rolled back and done again.
        """
        with _database():
            for _ in range(_ATTEMPTS):
                try:
                    with self.engine.begin() as conn:
                        return [self._act_on(conn, queued, admit) for queued in signups.take(conn, limit)]
                except (IntegrityError, _Raced):
                    continue
        raise StoreError("the same addresses are being signed up by several workers at once; try again")

    def _act_on(self, conn: Connection, queued: signups.Queued, admit: Callable[[str], bool]) -> SignUp:
        if not admit(self.crypto.open(queued.address, queued.blind_index)):
            return SignUp.LIMITED
        consent = Consent(queued.consent_form, queued.consent_text_version)
        return self._sign_up(conn, queued.blind_index, queued.address, consent, restart_suppressed=True)

    def add_confirmed(self, address: Address, consent: Consent) -> SignUp:
        """Record an address whose consent was given elsewhere; suppressed addresses stay suppressed."""
        return self._retry(lambda conn, index: self._add_confirmed(
            conn, index, self.crypto.seal(address.deliver, index), consent), address)

    def confirm(self, subscriber_id: int, nonce: str) -> Action:
        """Confirm a pending subscription; confirming twice, or twice at once, confirms once."""
        now = self.now()
        values = {"status": Status.CONFIRMED, "confirmed_at": now, "consent_at": now, "updated_at": now}
        return self._act(subscriber_id, nonce, (Status.PENDING,), values, done=Status.CONFIRMED,
                         event=("confirmed", consent_events.CONFIRMATION_LINK),
                         then=outbox.WELCOME if self.welcome else None)

    def unsubscribe(self, subscriber_id: int, nonce: str) -> Action:
        """End a subscription: the sealed address is wiped, the blind index stays as suppression."""
        now = self.now()
        values = {"status": Status.UNSUBSCRIBED, "address": None, "unsubscribed_at": now, "updated_at": now,
                  **NO_CHANGE}
        return self._act(subscriber_id, nonce, (Status.PENDING, Status.CONFIRMED), values,
                         done=Status.UNSUBSCRIBED, event=("unsubscribed", consent_events.UNSUBSCRIBE_LINK))

    def mark_bounced(self, subscriber_ids: Sequence[int]) -> int:
        """Suppress confirmed subscribers whose mail is refused for good; addresses wiped. How many were."""
        if not subscriber_ids:
            return 0
        now = self.now()
        with _database(), self.engine.begin() as conn:
            bounced = conn.execute(update(T).where(T.c.id.in_(subscriber_ids), T.c.status == Status.CONFIRMED)
                                   .values(status=Status.BOUNCED, address=None, bounced_at=now,
                                           updated_at=now, **NO_CHANGE).returning(T.c.id)).scalars().all()
            consent_events.note_actions(conn, bounced, "bounced", now, consent_events.REFUSED)
            return len(bounced)

    def end_by_mail(self, subscriber_id: int, nonce_prefix: str, status: Status) -> bool:
        """What mail that came back asks, for the subscription whose nonce starts with `nonce_prefix`:
        UNSUBSCRIBED or COMPLAINED ends a pending or confirmed one, BOUNCED a confirmed one (an issue
        bounced) or a pending one (its confirmation email bounced). The address is wiped, the blind index
        stays as suppression. Whether the row changed; an earlier subscription's mail changes nothing."""
        now = self.now()
        values: dict[str, Any] = {"status": status, "address": None, "updated_at": now}
        values["bounced_at" if status is Status.BOUNCED else "unsubscribed_at"] = now
        with _database(), self.engine.begin() as conn:
            changed = conn.execute(update(T).where(
                T.c.id == subscriber_id, func.substr(T.c.nonce, 1, len(nonce_prefix)) == nonce_prefix,
                T.c.status.in_([Status.PENDING, Status.CONFIRMED])).values(values)).rowcount == 1
            if changed:
                outbox.cancel(conn, subscriber_id, now)
                consent_events.note_action(conn, subscriber_id, status.value, now, _BY_MAIL[status])
            return changed

    def suppress(self, address: Address, status: Status) -> bool:
        """Keep an address as suppression only (blind index, no sealed address), as a list moved from
        another provider brings it; one already here is suppressed too. False when it already was."""
        if status not in SUPPRESSED:
            raise ValueError(f"{status} is not a suppression")
        index = self.crypto.blind_index(address.lookup)
        now = self.now()
        left = {"bounced_at" if status is Status.BOUNCED else "unsubscribed_at": now}
        with _database(), self.engine.begin() as conn:
            row = conn.execute(_FIND, {"index": index}).first()
            if row is None:
                conn.execute(_ADD, {"blind_index": index, "address": None, "status": status, "nonce": new_nonce(),
                                    "consent_form": SUPPRESSION_FORM, "consent_text_version": "none",
                                    "signed_up_at": now, "created_at": now, "updated_at": now, **left})
                return True
            if Status(row.status) in SUPPRESSED:
                return False
            conn.execute(update(T).where(T.c.id == row.id).values(status=status, address=None, updated_at=now,
                                                                   **left))
            outbox.cancel(conn, row.id, now)
            return True

    def lookup(self, address: Address) -> Status | None:
        """The status of one address, or None when it is not on the list."""
        index = self.crypto.blind_index(address.lookup)
        with _database(), self.engine.connect() as conn:
            status = conn.execute(select(T.c.status).where(T.c.blind_index == index)).scalar()
        return None if status is None else Status(status)

    def identify(self, address: Address) -> int | None:
        """The subscriber id of one address (for erasing what other tables keep), or None."""
        index = self.crypto.blind_index(address.lookup)
        with _database(), self.engine.connect() as conn:
            return conn.execute(select(T.c.id).where(T.c.blind_index == index)).scalar()

    def erase(self, address: Address) -> bool:
        """Delete every trace of an address here (its row, its suppression, its queued mail and
        sign-ups).

        The ledger's rows are the caller's to delete first (`identify` gives the id): this side
        never reaches the pipeline's tables. The id is never given to anyone else (AUTOINCREMENT).
        """
        index = self.crypto.blind_index(address.lookup)
        with _database(), self.engine.begin() as conn:
            signups.forget(conn, index)
            return conn.execute(delete(T).where(T.c.blind_index == index)).rowcount == 1

    def counts(self) -> dict[Status, int]:
        """How many subscribers are in each status; every status is present."""
        with _database(), self.engine.connect() as conn:
            rows = conn.execute(select(T.c.status, func.count()).group_by(T.c.status)).all()
        found = {Status(status): count for status, count in rows}
        return {status: found.get(status, 0) for status in Status}

    def suppression_counts(self) -> tuple[dict[Status, int], int]:
        """Suppressed rows by reason, and how many of them were imported as suppression only."""
        with _database(), self.engine.connect() as conn:
            rows = conn.execute(select(T.c.status, func.count()).where(T.c.status.in_(SUPPRESSED))
                                .group_by(T.c.status)).all()
            imported = conn.execute(select(func.count()).where(T.c.status.in_(SUPPRESSED),
                                                               T.c.consent_form == SUPPRESSION_FORM)).scalar_one()
        found = {Status(status): count for status, count in rows}
        return {status: found.get(status, 0) for status in SUPPRESSED}, int(imported)

    def purge(self, pending_for: timedelta) -> int:
        """Forget sign-ups left unconfirmed longer than `pending_for`; returns how many.

        A row that was unsubscribed or bounced before the sign-up goes back to that status (wiped),
        so the suppression it carried survives a sign-up nobody confirmed.
        """
        now = self.now()
        stale = (T.c.status == Status.PENDING, T.c.signed_up_at < now - pending_for)
        never_suppressed = (T.c.unsubscribed_at.is_(None), T.c.bounced_at.is_(None))
        with _database(), self.engine.begin() as conn:
            deleted = conn.execute(delete(T).where(*stale, *never_suppressed)).rowcount
            bounced_last = T.c.bounced_at.is_not(None) & or_(T.c.unsubscribed_at.is_(None),
                                                           T.c.bounced_at > T.c.unsubscribed_at)
            restored = 0
            for status, condition in ((Status.BOUNCED, bounced_last), (Status.UNSUBSCRIBED, ~bounced_last)):
                restored += conn.execute(update(T).where(*stale, condition)
                                         .values(status=status, address=None, updated_at=now)).rowcount
            outbox.forget_finished(conn, now - pending_for)
        return deleted + restored

    def pending_addresses(self, subscriber_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """{id: (address, nonce)} of those still waiting to confirm; nobody else is opened."""
        if not subscriber_ids:
            return {}
        with _database(), self.engine.connect() as conn:
            rows = conn.execute(select(T.c.id, T.c.address, T.c.blind_index, T.c.nonce)
                                .where(T.c.id.in_(subscriber_ids), T.c.status == Status.PENDING)).all()
        return {row.id: (self.crypto.open(row.address, row.blind_index), row.nonce)
                for row in rows if row.address is not None}

    def confirmed_addresses(self, subscriber_ids: Sequence[int] = (), *, after_id: int | None = None,
                            limit: int | None = None) -> dict[int, tuple[str, str]]:
        """{id: (address, nonce)} of confirmed subscribers: those of `subscriber_ids`, or else the first
        `limit` with an id above `after_id`, in id order. Only the sender's batch is ever opened."""
        where = T.c.id.in_(subscriber_ids) if after_id is None else T.c.id > after_id
        with _database(), self.engine.connect() as conn:
            rows = conn.execute(select(T.c.id, T.c.address, T.c.blind_index, T.c.nonce)
                                .where(T.c.status == Status.CONFIRMED, where).order_by(T.c.id).limit(limit)).all()
        # Confirmed rows always hold their address; only leaving wipes it.
        return {row.id: (self.crypto.open(row.address, row.blind_index), row.nonce)
                for row in rows if row.address is not None}

    def kept(self, subscriber_id: int, nonce: str) -> Kept | None:
        """What is stored about the subscription `nonce` names, with the address opened; None when it is
        gone or the nonce is of an earlier subscription."""
        with _database(), self.engine.connect() as conn:
            row = conn.execute(select(T).where(T.c.id == subscriber_id, T.c.nonce == nonce)).first()
            if row is None:
                return None
            events = tuple(consent_events.history(conn, subscriber_id))
        address = None if row.address is None else self.crypto.open(row.address, row.blind_index)
        new_address = None if row.new_address is None else self.crypto.open(row.new_address, row.new_blind_index)
        times = {name: None if getattr(row, name) is None else as_utc(getattr(row, name))
                 for name in ("consent_at", "confirmed_at", "unsubscribed_at", "bounced_at", "paused_until")}
        return Kept(row.id, address, Status(row.status), row.consent_form, row.consent_text_version,
                    row.consent_note, signed_up_at=as_utc(row.signed_up_at), created_at=as_utc(row.created_at),
                    updated_at=as_utc(row.updated_at), new_address=new_address, events=events, **times)

    def pause(self, subscriber_id: int, nonce: str, until: datetime, detail: str) -> Action:
        """Leave a confirmed reader out of every snapshot taken before `until`; recorded with `detail`."""
        return self._by_reader(subscriber_id, nonce, {"paused_until": until}, "paused", detail)

    def resume(self, subscriber_id: int, nonce: str) -> Action:
        """End a pause now."""
        return self._by_reader(subscriber_id, nonce, {"paused_until": None}, "resumed", None)

    def leave(self, subscriber_id: int, nonce: str) -> Action:
        """Unsubscribe from the reader's own page: as `unsubscribe`, and recorded in the consent record."""
        now = self.now()
        values = {"status": Status.UNSUBSCRIBED, "address": None, "unsubscribed_at": now, "paused_until": None,
                  **NO_CHANGE}
        return self._by_reader(subscriber_id, nonce, values, "unsubscribed", consent_events.OWN_PAGE,
                               allowed=(Status.PENDING, Status.CONFIRMED), done=Status.UNSUBSCRIBED)

    def erase_subscription(self, subscriber_id: int, nonce: str) -> bool:
        """Delete every trace of the subscription `nonce` names, as `erase` does; False when it is gone.

        The ledger's rows are the caller's to delete first, as for `erase`.
        """
        with _database(), self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                # Zero the deleted rows' bytes in the file, whatever SQLite's build defaults to; the WAL's
                # older frames go at its next checkpoint (at the latest when the last connection closes).
                conn.exec_driver_sql("PRAGMA secure_delete=ON")
            index = conn.execute(select(T.c.blind_index).where(T.c.id == subscriber_id, T.c.nonce == nonce)).scalar()
            if index is None:
                return False
            signups.forget(conn, index)
            consent_events.forget_history(conn, subscriber_id)
            return conn.execute(delete(T).where(T.c.id == subscriber_id, T.c.nonce == nonce)).rowcount == 1

    def request_change(self, subscriber_id: int, nonce: str, address: Address) -> Change:
        """Keep `address` beside the current one until it is confirmed, and queue its confirmation email:
        at most one an hour per subscription, and none to an address that is already on the list."""
        index = self.crypto.blind_index(address.lookup)
        now = self.now()
        with _database(), self.engine.begin() as conn:
            row = conn.execute(select(T.c.blind_index, T.c.change_mailed_at).where(
                T.c.id == subscriber_id, T.c.nonce == nonce, T.c.status == Status.CONFIRMED)).first()
            if row is None:
                return Change.NOT_CONFIRMED
            if row.blind_index == index:
                return Change.SAME
            taken = conn.execute(select(T.c.id).where(T.c.blind_index == index)).first() is not None
            due = or_(T.c.change_mailed_at.is_(None), T.c.change_mailed_at <= now - RESEND_AFTER)
            sealed = self.crypto.seal(address.deliver, index)
            # Kept as asked even when taken, so the reader's page and download cannot tell the two apart;
            # only the email is left out (and confirming could not succeed).
            if conn.execute(update(T).where(T.c.id == subscriber_id, T.c.status == Status.CONFIRMED, due).values(
                    new_address=sealed, new_blind_index=index, change_mailed_at=now, updated_at=now)).rowcount == 0:
                return Change.RECENTLY_MAILED
            consent_events.note_action(conn, subscriber_id, "change-asked", now, consent_events.CHANGE_ASKED)
            if taken:
                return Change.ON_THE_LIST
            outbox.queue(conn, subscriber_id, now, outbox.CHANGE)
        return Change.MAILED

    def change_addresses(self, subscriber_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """{id: (new address, change nonce)} of confirmed subscribers waiting to confirm a new address."""
        if not subscriber_ids:
            return {}
        with _database(), self.engine.connect() as conn:
            rows = conn.execute(select(T.c.id, T.c.new_address, T.c.new_blind_index, T.c.nonce).where(
                T.c.id.in_(subscriber_ids), T.c.status == Status.CONFIRMED, T.c.new_address.is_not(None))).all()
        return {row.id: (self.crypto.open(row.new_address, row.new_blind_index),
                         change_nonce(row.nonce, row.new_blind_index)) for row in rows}

    def confirm_change(self, subscriber_id: int, token_nonce: str) -> Action:
        """Put the new address in force (the old one is wiped); STALE for a link to an address no longer asked
        for, ALREADY when the address has meanwhile joined the list some other way (nothing changes then)."""
        now = self.now()
        with _database():
            try:
                with self.engine.begin() as conn:
                    row = conn.execute(select(T.c.nonce, T.c.new_address, T.c.new_blind_index).where(
                        T.c.id == subscriber_id, T.c.status == Status.CONFIRMED)).first()
                    if row is None:
                        return Action.GONE
                    if row.new_blind_index is None or change_nonce(row.nonce, row.new_blind_index) != token_nonce:
                        return Action.STALE
                    conn.execute(update(T).where(T.c.id == subscriber_id).values(
                        address=row.new_address, blind_index=row.new_blind_index, updated_at=now, **NO_CHANGE))
                    consent_events.note_action(conn, subscriber_id, "address-changed", now,
                                               consent_events.NEW_ADDRESS_CONFIRMED)
            except IntegrityError:
                return Action.ALREADY
        return Action.DONE

    def _by_reader(self, subscriber_id: int, nonce: str, values: dict[str, Any], action: str, detail: str | None,
                   *, allowed: tuple[Status, ...] = (Status.CONFIRMED,), done: Status | None = None) -> Action:
        now = self.now()
        with _database(), self.engine.begin() as conn:
            changed = conn.execute(update(T).where(T.c.id == subscriber_id, T.c.nonce == nonce,
                                                   T.c.status.in_(allowed))
                                   .values(values | {"updated_at": now})).rowcount
            if changed == 1:
                consent_events.note_action(conn, subscriber_id, action, now, detail)
                if "status" in values:  # a confirmation still queued would only confuse someone who left
                    outbox.cancel(conn, subscriber_id, now)
                return Action.DONE
            row = conn.execute(select(T.c.status, T.c.nonce).where(T.c.id == subscriber_id)).first()
        return _missed(row, nonce, done)

    def _retry(self, step: Callable[[Connection, str], SignUp], address: Address) -> SignUp:
        index = self.crypto.blind_index(address.lookup)
        with _database():
            for _ in range(_ATTEMPTS):
                try:
                    with self.engine.begin() as conn:
                        return step(conn, index)
                except (IntegrityError, _Raced):
                    continue  # the same address arrived twice at once: read the winner's row
        raise StoreError("the same address is being changed by many requests at once; try again")

    def _sign_up(self, conn: Connection, index: str, sealed: bytes, consent: Consent,
                 restart_suppressed: bool) -> SignUp:
        now = self.now()
        row = conn.execute(_FIND, {"index": index}).first()
        if row is None:
            values = self._fresh(sealed, index, consent, now) | {"status": Status.PENDING, "mailed_at": now}
            outbox.queue(conn, conn.execute(_ADD, values).scalar_one(), now)
            return SignUp.NEW
        status = Status(row.status)
        if status is Status.CONFIRMED:
            return SignUp.ALREADY_CONFIRMED
        left_at = max((as_utc(t) for t in (row.unsubscribed_at, row.bounced_at) if t is not None), default=None)
        if status is Status.PENDING:
            # A sign-up that brought back a suppressed address was its one email for the period.
            wait = RESEND_AFTER if left_at is None else self.resubscribe_after
            due = or_(T.c.mailed_at.is_(None), T.c.mailed_at <= now - wait)
            if conn.execute(update(T).where(T.c.id == row.id, T.c.status == Status.PENDING, due)
                            .values(mailed_at=now, signed_up_at=now, updated_at=now)).rowcount == 0:
                return SignUp.RECENTLY_MAILED
            outbox.queue(conn, row.id, now)
            return SignUp.MAILED_AGAIN
        if not restart_suppressed or self._mailed_since_leaving(row.mailed_at, left_at, now):
            return SignUp.SUPPRESSED
        values = self._fresh(sealed, index, consent, now) | {
            "status": Status.PENDING, "mailed_at": now, "consent_at": None, "confirmed_at": None}
        values.pop("created_at")
        if conn.execute(update(T).where(T.c.id == row.id, T.c.status == status)
                        .values(values)).rowcount == 0:
            raise _Raced
        outbox.queue(conn, row.id, now)
        return SignUp.RESTARTED

    def _mailed_since_leaving(self, mailed_at: datetime | None, left_at: datetime | None, now: datetime) -> bool:
        """Whether a confirmation went out after the address left, within the current period."""
        if mailed_at is None or left_at is None:
            return False
        mailed = as_utc(mailed_at)
        return mailed > left_at and mailed > now - self.resubscribe_after

    def _add_confirmed(self, conn: Connection, index: str, sealed: bytes, consent: Consent) -> SignUp:
        now = self.now()
        row = conn.execute(_FIND, {"index": index}).first()
        confirmed = {"status": Status.CONFIRMED, "consent_at": now, "confirmed_at": now}
        if row is None:
            conn.execute(_ADD, self._fresh(sealed, index, consent, now) | confirmed)
            return SignUp.CONFIRMED
        status = Status(row.status)
        if status in SUPPRESSED:
            return SignUp.SUPPRESSED
        if status is Status.CONFIRMED:
            return SignUp.ALREADY_CONFIRMED
        consent_values = {"consent_form": consent.form, "consent_text_version": consent.text_version,
                          "consent_note": consent.note, "updated_at": now}
        if conn.execute(update(T).where(T.c.id == row.id, T.c.status == Status.PENDING)
                        .values(confirmed | consent_values)).rowcount == 0:
            raise _Raced
        outbox.cancel(conn, row.id, now)
        return SignUp.CONFIRMED

    def _fresh(self, sealed: bytes, index: str, consent: Consent, now: datetime) -> dict[str, Any]:
        return {"blind_index": index, "address": sealed,
                "nonce": new_nonce(), "consent_form": consent.form,
                "consent_text_version": consent.text_version, "consent_note": consent.note,
                "signed_up_at": now, "created_at": now, "updated_at": now}

    def _act(self, subscriber_id: int, nonce: str, allowed: tuple[Status, ...], values: dict[str, Any],
             *, done: Status, event: tuple[str, str], then: str | None = None) -> Action:
        with _database(), self.engine.begin() as conn:
            changed = conn.execute(update(T).where(T.c.id == subscriber_id, T.c.nonce == nonce,
                                                   T.c.status.in_(allowed)).values(values)).rowcount
            if changed == 1:
                # A confirmation still queued would only confuse someone who has already acted.
                outbox.cancel(conn, subscriber_id, values["updated_at"])
                action, detail = event
                consent_events.note_action(conn, subscriber_id, action, values["updated_at"], detail)
                if then is not None:  # the mail this change announces exists exactly when the change does
                    outbox.queue(conn, subscriber_id, values["updated_at"], kind=then)
                return Action.DONE
            row = conn.execute(select(T.c.status, T.c.nonce).where(T.c.id == subscriber_id)).first()
        return _missed(row, nonce, done)


def _missed(row: Row[Any, Any] | None, nonce: str, done: Status | None) -> Action:
    """Why a change by token found nothing to change: the row is gone, already so, or of another subscription."""
    if row is None:
        return Action.GONE
    if row.nonce == nonce and Status(row.status) is done:
        return Action.ALREADY
    return Action.STALE
