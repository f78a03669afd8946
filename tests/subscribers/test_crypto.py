"""Sealing and the blind index: nothing readable without the key, nothing movable between rows."""

from __future__ import annotations

import pytest

from subscribers.crypto import AddressCrypto
from subscribers.errors import KeyFileError
from subscribers.keys import derive, new_secret


@pytest.fixture
def crypto() -> AddressCrypto:
    return AddressCrypto(derive(new_secret(), "test"))


def test_a_sealed_address_opens_to_the_same_address(crypto: AddressCrypto) -> None:
    index = crypto.blind_index("üser@bücher.example")
    sealed = crypto.seal("üser@xn--bcher-kva.example", index)
    assert crypto.open(sealed, index) == "üser@xn--bcher-kva.example"


def test_sealing_twice_gives_different_bytes_that_hold_no_address(crypto: AddressCrypto) -> None:
    index = crypto.blind_index("alice@example.org")
    first, second = crypto.seal("alice@example.org", index), crypto.seal("alice@example.org", index)
    assert first != second
    assert b"alice" not in first
    assert b"example" not in first


def test_a_sealed_address_moved_to_another_row_does_not_open(crypto: AddressCrypto) -> None:
    sealed = crypto.seal("alice@example.org", crypto.blind_index("alice@example.org"))
    with pytest.raises(KeyFileError, match="does not open the stored addresses"):
        crypto.open(sealed, crypto.blind_index("mallory@example.org"))


def test_another_key_cannot_open_an_address(crypto: AddressCrypto) -> None:
    index = crypto.blind_index("alice@example.org")
    sealed = crypto.seal("alice@example.org", index)
    with pytest.raises(KeyFileError, match="is this the key `newsletter init` made"):
        AddressCrypto(derive(new_secret(), "other")).open(sealed, index)


def test_the_blind_index_is_stable_per_key_and_differs_between_keys(crypto: AddressCrypto) -> None:
    other = AddressCrypto(derive(new_secret(), "other"))
    index = crypto.blind_index("alice@example.org")
    assert index == crypto.blind_index("alice@example.org")
    assert len(index) == 64
    assert int(index, 16) >= 0
    assert index != crypto.blind_index("alicf@example.org")
    assert index != other.blind_index("alice@example.org")
