"""The list's secret: made once by `newsletter init` (mode 0600), or handed in through the environment.

One random master secret; the keys for encryption, the blind index and tokens are derived from it with
HKDF under different labels, so no key is ever used for two jobs. A fourth derived value, the check,
is what the database keeps to recognise its key (`key_check.py`); its first digits are the key's
fingerprint, safe to show and written in the key file's header.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from newsletter.config.key_text import KEY_PREFIX, SECRET_BYTES, decode_key
from subscribers.errors import KeyFileError

PREFIX = KEY_PREFIX
_HEADER = (
    "# The key of the subscriber list, made by `newsletter init`. Keep it secret and keep a backup:\n"
    "# without it no stored address can be read, found or unsubscribed.\n"
)


@dataclass(frozen=True, repr=False)
class Keys:
    """Three independent 256-bit keys and the check value; repr hides them so they never reach a log."""

    encryption: bytes
    index: bytes
    tokens: bytes
    check: bytes

    def __repr__(self) -> str:
        return "Keys(<hidden>)"

    @property
    def fingerprint(self) -> str:
        """The key's name for people: 16 hex digits of the check value, e.g. 3f2a-91c0-77aa-0b1e."""
        return fingerprint(self.check.hex())


def fingerprint(check_hex: str) -> str:
    """The fingerprint of a stored check value (hex)."""
    return "-".join(check_hex[i:i + 4] for i in range(0, 16, 4))


def new_secret() -> str:
    """A fresh master secret as one line of text."""
    return PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def ensure_key_file(path: Path) -> bool:
    """Create the key file (mode 0600) unless it exists; True when it was created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    except OSError as error:
        raise KeyFileError(str(path), f"cannot be created: {error.strerror}") from None
    secret = new_secret()
    made = f"# Fingerprint {derive(secret, str(path)).fingerprint}, made {datetime.now(UTC):%Y-%m-%d}.\n"
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(_HEADER + made + secret + "\n")
    return True


def derive(secret: str, where: str) -> Keys:
    """The keys of a master secret; `where` names its origin in error messages."""
    if not secret.strip().startswith(PREFIX):
        raise KeyFileError(where, f"does not hold a key (expected one line starting {PREFIX!r})")
    master = decode_key(secret)
    if master is None:
        raise KeyFileError(where, "holds a damaged key; restore it from your backup")
    return Keys(*(_hkdf(master, label) for label in ("address-encryption", "blind-index", "tokens", "key-check")))


def _hkdf(master: bytes, label: str) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"newsletter/v1/" + label.encode()).derive(master)


def load_keys(path: Path, secret: str = "") -> Keys:
    """The keys from `secret` when given (the environment), else from the key file at `path`."""
    if secret:
        return derive(secret, "from the environment (NEWSLETTER_PRIVACY_KEY)")
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(str(path), f"can be read by other users; run: chmod 600 {path}")
        lines = path.read_text(encoding="ascii").splitlines()
    except FileNotFoundError:
        raise KeyFileError(str(path), "does not exist; run `newsletter init` to create it") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "is not text"
        raise KeyFileError(str(path), f"cannot be read: {reason}") from None
    keys = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if len(keys) != 1:
        raise KeyFileError(str(path), f"must hold exactly one key line (found {len(keys)})")
    return derive(keys[0], str(path))
