"""Addresses at rest: sealed with AES-GCM, found by an HMAC blind index under a separate key."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from subscribers.errors import KeyFileError
from subscribers.keys import Keys

_VERSION = b"\x01"
_NONCE_BYTES = 12


class AddressCrypto:
    """Seals and opens addresses, and computes the blind index that finds them."""

    def __init__(self, keys: Keys) -> None:
        self._aead = AESGCM(keys.encryption)
        self._index_key = keys.index

    def blind_index(self, lookup_form: str) -> str:
        """HMAC-SHA256 of the address's lookup form, as 64 hex digits: equal addresses, equal index."""
        return hmac.new(self._index_key, lookup_form.encode("utf-8"), hashlib.sha256).hexdigest()

    def seal(self, address: str, blind_index: str) -> bytes:
        """The address encrypted; bound to its row's blind index so it cannot be moved to another row."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, address.encode("utf-8"), _aad(blind_index))

    def open(self, sealed: bytes, blind_index: str) -> str:
        """The address back; a wrong key or a tampered value is a KeyFileError, never garbage."""
        if sealed[:1] != _VERSION or len(sealed) < 1 + _NONCE_BYTES + 16:
            raise KeyFileError("in use", "cannot open a stored address (unknown format)")
        nonce, body = sealed[1:1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, body, _aad(blind_index)).decode("utf-8")
        except InvalidTag:
            raise KeyFileError(
                "in use", "does not open the stored addresses: is this the key `newsletter init` made?"
            ) from None


def _aad(blind_index: str) -> bytes:
    return b"subscriber-address:" + blind_index.encode("ascii")
