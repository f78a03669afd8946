"""How the list's master secret is written (`nlk1.` and 43 base64url characters): in the key file that
`newsletter init` makes, or in NEWSLETTER_PRIVACY_KEY. Kept here so the setting is checked when it loads."""

from __future__ import annotations

import base64
import binascii

KEY_PREFIX = "nlk1."
SECRET_BYTES = 32


def decode_key(text: str) -> bytes | None:
    """The 32 secret bytes a key line holds, or None when it is not one."""
    text = text.strip()
    if not text.startswith(KEY_PREFIX):
        return None
    body = text[len(KEY_PREFIX):]
    try:
        secret = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None
    return secret if len(secret) == SECRET_BYTES else None
