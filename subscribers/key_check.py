"""Which key seals the list: recorded once by `newsletter init`, checked by everything that opens addresses.

A valid key that is not the list's would otherwise be taken at its word: an import under it adds
everyone again under new blind indexes (the list forks), and later sends under the right key fail on
those rows every week. The check value is derived from the key (`Keys.check`), so the database can
recognise its key without holding anything that opens an address.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Engine, Table, insert, select
from sqlalchemy.exc import IntegrityError

from subscribers.crypto import AddressCrypto
from subscribers.errors import KeyFileError, KeyMismatch
from subscribers.keys import Keys, fingerprint
from subscribers.store import sealed_sample
from subscribers.tables import KeyCheckRow, as_utc, utcnow

T = cast(Table, KeyCheckRow.__table__)
_ROW = 1


@dataclass(frozen=True)
class RecordedKey:
    """The key the list is sealed with, as the database knows it."""

    check_value: str
    recorded_at: datetime

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.check_value)


def recorded(engine: Engine) -> RecordedKey | None:
    """The recorded key, or None when no `newsletter init` of this version has run on the database."""
    with engine.connect() as conn:
        row = conn.execute(select(T.c.check_value, T.c.recorded_at).where(T.c.id == _ROW)).first()
    return None if row is None else RecordedKey(row.check_value, as_utc(row.recorded_at))


def list_key(engine: Engine) -> str | None:
    """The list's key in words, when the database already depends on one; None for a new list."""
    known = recorded(engine)
    if known is not None:
        return (f"the key of fingerprint {known.fingerprint}, recorded by `newsletter init` on "
                f"{known.recorded_at:%Y-%m-%d}")
    return "the key its stored addresses were sealed with" if sealed_sample(engine) is not None else None


def verify(engine: Engine, keys: Keys, origin: str) -> RecordedKey | None:
    """Refuse `keys` (KeyMismatch) unless they are the list's; `origin` says where they came from.

    Without a recorded check (a database `newsletter init` has not seen since this version), the keys
    must at least open a stored address, when there is one.
    """
    known = recorded(engine)
    if known is not None:
        if not hmac.compare_digest(known.check_value, keys.check.hex()):
            raise KeyMismatch(origin, keys.fingerprint, known.fingerprint, f"{known.recorded_at:%Y-%m-%d}")
        return known
    sample = sealed_sample(engine)
    if sample is not None:
        try:
            AddressCrypto(keys).open(*sample)
        except KeyFileError:
            raise KeyMismatch(origin, keys.fingerprint) from None
    return None


def remember(engine: Engine, keys: Keys, origin: str, now: Callable[[], datetime] = utcnow) -> RecordedKey:
    """Record `keys` as the list's (`newsletter init`), unless another key is recorded: then KeyMismatch."""
    known = verify(engine, keys, origin)
    if known is not None:
        return known
    try:
        with engine.begin() as conn:
            conn.execute(insert(T).values(id=_ROW, check_value=keys.check.hex(), recorded_at=now()))
    except IntegrityError:
        pass  # another `init` recorded one at the same moment: verify it below like any other
    known = verify(engine, keys, origin)
    assert known is not None
    return known
