"""The optional proof of work on the sign-up form (`[web] proof_of_work`): ALTCHA challenges, made and
checked here, with no third-party service.

The `altcha` package makes and verifies the challenges (the v1 format: find the number n up to
`MAX_NUMBER` whose SHA-256 of salt + n is the challenge; the salt carries the expiry and the whole
challenge is signed with HMAC), so no challenge of ours is stored. The browser side is `altcha.js`,
served by us: twenty lines that fetch a challenge and search with WebCrypto. ALTCHA's own widget would do
the same, but it is a bundle of styles and scripts our CSP forbids, for one hidden field.

A solution is good once: a replay within its lifetime fails. A failed check is not told to the visitor
(the endpoint answers it as it answers a sign-up, and keeps nothing).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from altcha.v1 import ChallengeOptions, create_challenge, extract_params, verify_solution

MAX_NUMBER = 50_000  # a fraction of a second of hashing in a browser; many times that for a bulk sender
LIFETIME = timedelta(minutes=20)
MAX_PAYLOAD = 1024
_REMEMBERED = 100_000  # solutions kept against replay, at most; expired ones are dropped first


class ProofOfWork:
    """Challenges under a key derived from the tokens key, and the solutions already used."""

    def __init__(self, tokens_key: bytes, now: Callable[[], datetime]) -> None:
        self._key = hmac.new(tokens_key, b"altcha proof of work", hashlib.sha256).hexdigest()
        self._now = now
        self._used: dict[str, float] = {}

    def challenge(self) -> dict[str, Any]:
        """A fresh challenge, as the JSON the browser script reads."""
        made = create_challenge(ChallengeOptions(hmac_key=self._key, max_number=MAX_NUMBER,
                                                      expires=self._now() + LIFETIME))
        return dict(made.to_dict())

    def passed(self, payload: str) -> bool:
        """Whether `payload` (base64 JSON from the form) solves an unexpired challenge of ours, the first time."""
        if not payload or len(payload) > MAX_PAYLOAD:
            return False
        try:
            solution = json.loads(base64.b64decode(payload, validate=True))
            expires = float(extract_params(solution)["expires"][0])
            signature = str(solution["signature"])
        except (binascii.Error, ValueError, TypeError, KeyError, IndexError, AttributeError):
            return False
        now = self._now().timestamp()
        if expires < now or signature in self._used:
            return False
        verified, _ = verify_solution(solution, self._key, check_expires=False)
        if verified:
            self._remember(signature, expires, now)
        return bool(verified)

    def _remember(self, signature: str, expires: float, now: float) -> None:
        if len(self._used) >= _REMEMBERED:
            self._used = {kept: until for kept, until in self._used.items() if until >= now}
        self._used[signature] = expires
