"""Return addresses (VERP): `bounces+TOKEN@DOMAIN` as each message's envelope sender and
`unsubscribe+TOKEN@DOMAIN` as its List-Unsubscribe mailto, made and read here because the token names
a subscriber, and the subscriber side alone hands out what identifies one.

TOKEN is 44 lower-case base32 letters of 27 bytes: the kind (1), the subscriber id (6), the issue id
(4; 0 for a confirmation email), the first 4 bytes of the subscription's nonce (so an old address
cannot touch a later re-subscription), the day it was made (2, days since 2020-01-01), then 10 bytes
of HMAC-SHA256 under a key derived from the tokens key for this use alone. The 17 bytes before the MAC
are then masked with a keystream made from the MAC under a second derived key (the SIV construction),
so a token shows nothing, not even which subscriber ids are close. Base32 because a relay
may fold the case of a local part; the address itself is never in it. Bounce tokens expire after
`[bounces] token_days`; unsubscribe tokens never do (the mailto must work for as long as the email
is kept).
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from newsletter.config.bounce_checks import RETURN_TOKEN_CHARS
from newsletter.config.settings import Config
from newsletter.errors import ReturnedMailError

_LAYOUT = struct.Struct(">B6s4s4sH")
_MAC_BYTES = 10
_EPOCH = date(2020, 1, 1)
_MAX_ID = 2 ** 48 - 1
_MAX_ISSUE = 2 ** 32 - 1


class ReturnKind(enum.IntEnum):
    ISSUE = 1          # bounce address of an issue
    CONFIRMATION = 2   # bounce address of a confirmation email
    UNSUBSCRIBE = 3    # the List-Unsubscribe mailto


@dataclass(frozen=True)
class ReturnToken:
    """What a genuine return address says."""

    kind: ReturnKind
    subscriber_id: int
    issue_id: int
    nonce_prefix: str  # 8 hex digits: the start of the subscription's nonce
    made: date


class ReturnAddresses:
    """Makes and reads the return addresses of one list; `enabled` is False when `[bounces] domain` is empty."""

    def __init__(self, tokens_key: bytes, domain: str, local_part: str, unsubscribe_local_part: str,
                 token_days: int, today: Callable[[], date] = lambda: datetime.now(UTC).date()) -> None:
        self._key = hmac.new(tokens_key, b"newsletter/v1/return-addresses", hashlib.sha256).digest()
        self._mask_key = hmac.new(tokens_key, b"newsletter/v1/return-addresses-mask", hashlib.sha256).digest()
        self.domain = domain.lower()
        self._locals = {ReturnKind.ISSUE: local_part, ReturnKind.CONFIRMATION: local_part,
                        ReturnKind.UNSUBSCRIBE: unsubscribe_local_part}
        self._valid_for = timedelta(days=token_days)
        self._today = today

    @classmethod
    def from_config(cls, config: Config, tokens_key: bytes,
                    today: Callable[[], date] = lambda: datetime.now(UTC).date()) -> ReturnAddresses:
        settings = config.bounces
        return cls(tokens_key, settings.domain, settings.local_part, settings.unsubscribe_local_part,
                   settings.token_days, today)

    @property
    def enabled(self) -> bool:
        return bool(self.domain)

    def bounce_address(self, subscriber_id: int, nonce: str, issue_id: int = 0) -> str:
        """The envelope sender of one issue's message (or, with no issue, of a confirmation email)."""
        kind = ReturnKind.ISSUE if issue_id else ReturnKind.CONFIRMATION
        return self._address(kind, subscriber_id, nonce, issue_id)

    def unsubscribe_address(self, subscriber_id: int, nonce: str) -> str:
        """The List-Unsubscribe mailto's address: any mail to it unsubscribes that subscription."""
        return self._address(ReturnKind.UNSUBSCRIBE, subscriber_id, nonce, 0)

    def read(self, address: str) -> ReturnToken:
        """What a return address says; ReturnedMailError when it is not a genuine, current one of ours."""
        local, at, domain = address.strip().strip("<>").rpartition("@")
        if not at or domain.lower().rstrip(".") != self.domain or not self.domain:
            raise ReturnedMailError("not addressed to the bounce domain")
        name, plus, token = local.lower().partition("+")
        if not plus or name not in self._locals.values():
            raise ReturnedMailError("not a return address: no local part of ours with a token")
        claims = self._verify(token)
        if self._locals[claims.kind] != name:
            raise ReturnedMailError("a token of another kind of return address")
        if claims.kind is not ReturnKind.UNSUBSCRIBE and self._today() - claims.made > self._valid_for:
            raise ReturnedMailError(f"an expired bounce token (made {claims.made.isoformat()})", expired=True)
        return claims

    def _address(self, kind: ReturnKind, subscriber_id: int, nonce: str, issue_id: int) -> str:
        if not self.domain:
            raise ValueError("[bounces] domain is empty: there are no return addresses")
        if not 0 < subscriber_id <= _MAX_ID or not 0 <= issue_id <= _MAX_ISSUE:
            raise ValueError("subscriber or issue id out of the token's range")
        day = (self._today() - _EPOCH).days
        payload = _LAYOUT.pack(kind, subscriber_id.to_bytes(6, "big"), issue_id.to_bytes(4, "big"),
                               bytes.fromhex(nonce)[:4], day)
        mac = self._mac(payload)
        token = base64.b32encode(self._masked(payload, mac) + mac).decode("ascii").rstrip("=").lower()
        return f"{self._locals[kind]}+{token}@{self.domain}"

    def _verify(self, token: str) -> ReturnToken:
        if len(token) != RETURN_TOKEN_CHARS:
            raise ReturnedMailError("a damaged token (wrong length)")
        try:
            raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8))
        except (binascii.Error, ValueError):
            raise ReturnedMailError("a damaged token (not base32)") from None
        if base64.b32encode(raw).decode("ascii").rstrip("=").lower() != token:
            raise ReturnedMailError("a damaged token (its last letter carries stray bits)")
        mac = raw[_LAYOUT.size:]
        payload = self._masked(raw[:_LAYOUT.size], mac)
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise ReturnedMailError("a forged or altered token (its signature does not match)")
        kind, subscriber, issue, nonce, day = _LAYOUT.unpack(payload)
        if kind not in ReturnKind.__members__.values():
            raise ReturnedMailError("a token of an unknown kind")
        return ReturnToken(ReturnKind(kind), int.from_bytes(subscriber, "big"), int.from_bytes(issue, "big"),
                           nonce.hex(), _EPOCH + timedelta(days=day))

    def _masked(self, payload: bytes, mac: bytes) -> bytes:
        stream = hmac.new(self._mask_key, mac, hashlib.sha256).digest()[:len(payload)]
        return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(payload), "big")

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]
