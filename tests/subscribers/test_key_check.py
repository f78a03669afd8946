"""The key check: recorded once, compared by everything that opens addresses, and never the key itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from newsletter.config.settings import Config
from subscribers import key_check
from subscribers.addresses import parse
from subscribers.errors import KeyMismatch
from subscribers.keys import derive, ensure_key_file, load_keys, new_secret
from subscribers.side import Subscribers
from subscribers.store import Consent
from subscribers.tables import KeyCheckRow
from tests.conftest import Clock

IMPORT = Consent("import", "test")


def test_the_check_is_recorded_once_and_holds_nothing_that_opens_an_address(engine: Engine, clock: Clock) -> None:
    keys = derive(new_secret(), "test")
    first = key_check.remember(engine, keys, "in test", now=clock)
    clock.advance(days=3)
    assert key_check.remember(engine, keys, "in test", now=clock) == first
    with engine.connect() as conn:
        [stored] = conn.execute(select(KeyCheckRow.check_value)).scalars().all()
    assert stored not in {keys.encryption.hex(), keys.index.hex(), keys.tokens.hex()}
    assert first.fingerprint == keys.fingerprint
    assert len(first.fingerprint) == 19


def test_another_key_is_refused_with_both_fingerprints(engine: Engine) -> None:
    ours, theirs = derive(new_secret(), "test"), derive(new_secret(), "test")
    key_check.remember(engine, ours, "in test")
    with pytest.raises(KeyMismatch) as caught:
        key_check.remember(engine, theirs, "from NEWSLETTER_PRIVACY_KEY")
    assert (caught.value.expected, caught.value.found) == (ours.fingerprint, theirs.fingerprint)
    assert "Set NEWSLETTER_PRIVACY_KEY to that key" in str(caught.value)


def test_a_list_made_before_checks_existed_is_recorded_only_under_a_key_that_opens_it(
        config: Config, engine: Engine, tmp_path: Path) -> None:
    # No check recorded yet: as a database from version 0.2 is before `newsletter init` upgrades it.
    Subscribers(config, engine).store.add_confirmed(parse("ann@example.org"), IMPORT)
    assert key_check.recorded(engine) is None
    stranger = derive(new_secret(), "test")
    with pytest.raises(KeyMismatch, match="does not open the addresses stored in the database"):
        key_check.remember(engine, stranger, "in test")
    assert key_check.recorded(engine) is None
    ours = load_keys(tmp_path / "newsletter.key")
    assert key_check.remember(engine, ours, "in test").fingerprint == ours.fingerprint


def test_a_new_key_file_names_its_fingerprint_in_its_header(tmp_path: Path) -> None:
    path = tmp_path / "other.key"
    ensure_key_file(path)
    header = path.read_text().splitlines()[2]
    assert header.startswith(f"# Fingerprint {load_keys(path).fingerprint}, made ")
