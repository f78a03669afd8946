"""Signed tokens for confirm, unsubscribe, the reader's own page (manage) and the sign-up form: scoped to
one purpose and one subscription.

A token is base64url of: purpose (1 byte), subscriber id (8), the subscription's nonce (8), expiry in
Unix seconds (8, 0 for never), then the first 16 bytes of an HMAC-SHA256 over all of it.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass
from datetime import datetime

from newsletter.translations import N_
from subscribers.errors import TokenError

_LAYOUT = struct.Struct(">BQ8sQ")
_MAC_BYTES = 16
_LENGTH = _LAYOUT.size + _MAC_BYTES
_FROM_URLSAFE = str.maketrans("-_", "+/")
MAX_TEXT = 64  # base64 of _LENGTH bytes is 55 characters; anything longer is refused unread


class Purpose(enum.IntEnum):
    CONFIRM = 1
    UNSUBSCRIBE = 2
    FORM = 3
    MANAGE = 4
    CHANGE = 5
    REVIEW = 6  # a proof's Approve and Hold links: "subscriber id" is the week (202647), nonce the draft's


@dataclass(frozen=True)
class Claims:
    """What a valid token says."""

    purpose: Purpose
    subscriber_id: int
    nonce: str
    expires: int


def new_nonce() -> str:
    """A fresh subscription nonce: 16 hex digits."""
    return secrets.token_hex(8)


class TokenSigner:
    """Issues and checks tokens under the tokens key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def issue(self, purpose: Purpose, subscriber_id: int, nonce: str, expires: datetime | None) -> str:
        """A token; `expires` None means it never does (unsubscribe links must work for years)."""
        until = int(expires.timestamp()) if expires is not None else 0
        payload = _LAYOUT.pack(purpose, subscriber_id, bytes.fromhex(nonce), until)
        return base64.urlsafe_b64encode(payload + self._mac(payload)).decode().rstrip("=")

    def verify(self, token: str, purpose: Purpose, now: datetime) -> Claims:
        """The claims of a genuine, unexpired token for `purpose`; TokenError otherwise."""
        raw = _decode(token)
        payload, mac = raw[:_LAYOUT.size], raw[_LAYOUT.size:]
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise TokenError(N_("This link is not valid: it was changed or was not made by this newsletter."))
        kind, subscriber_id, nonce, until = _LAYOUT.unpack(payload)
        if kind != purpose:
            raise TokenError(N_("This link is for something else; use the link from the email."))
        if until and now.timestamp() > until:
            raise TokenError(N_("This link has expired."), expired=True)
        return Claims(Purpose(kind), subscriber_id, nonce.hex(), until)

    def form_token(self, expires: datetime) -> str:
        """A token that the sign-up form carries, so a post must come from a recently served form."""
        return self.issue(Purpose.FORM, 0, new_nonce(), expires)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def _decode(token: str) -> bytes:
    text = token.strip()
    if not text or len(text) > MAX_TEXT:
        raise TokenError(N_("This link is not valid: it is incomplete or too long."))
    try:
        standard = text.translate(_FROM_URLSAFE) + "=" * (-len(text) % 4)
        raw = base64.b64decode(standard, validate=True)
    except (binascii.Error, ValueError):
        raise TokenError(N_("This link is not valid: it is damaged; copy the whole link.")) from None
    if len(raw) != _LENGTH:
        raise TokenError(N_("This link is not valid: it is damaged; copy the whole link."))
    return raw
