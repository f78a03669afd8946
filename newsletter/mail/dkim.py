"""Optional DKIM signing (dkimpy), configured by `[dkim]` domain, selector and key_file.

The signature's h= covers every header the composers write, the issue's and the confirmation's. From,
Subject, List-Unsubscribe and List-Unsubscribe-Post are listed twice ("oversigned"), so a second copy of
any of them added on the way breaks the signature instead of slipping past it. For DMARC, `dkim.domain`
should be the domain of `newsletter.from_address` (or a parent of it).
"""

from __future__ import annotations

from newsletter.config.dkim_key import dkim_key_problem
from newsletter.config.settings import Config
from newsletter.errors import ConfigError

OVERSIGNED = (b"From", b"Subject", b"List-Unsubscribe", b"List-Unsubscribe-Post")
SIGNED = (
    *OVERSIGNED, *OVERSIGNED,
    b"To", b"Date", b"Message-ID", b"Reply-To", b"List-Id", b"MIME-Version", b"Content-Type",
    b"Feedback-ID",  # Gmail counts it only when the sender's domain signs it
    b"Auto-Submitted",  # the confirmation email's
)


class DkimSigner:
    """Adds a DKIM-Signature header to whole messages (relaxed/relaxed, rsa-sha256)."""

    def __init__(self, domain: str, selector: str, private_key: bytes) -> None:
        problem = dkim_key_problem(private_key)
        if problem:
            raise ConfigError("dkim.key_file", problem)
        self.domain = domain
        self.selector = selector
        self._key = private_key

    @classmethod
    def from_config(cls, config: Config) -> DkimSigner | None:
        """The signer `[dkim]` describes, or None when dkim.domain is empty (signing off)."""
        settings = config.dkim
        if not settings.domain:
            return None
        for key, value in (("dkim.selector", settings.selector), ("dkim.key_file", settings.key_file)):
            if not value:
                raise ConfigError(key, "must be set when dkim.domain is set (or empty dkim.domain)")
        path = config.path(settings.key_file)
        try:
            private_key = path.read_bytes()
        except OSError as error:
            raise ConfigError("dkim.key_file", f"{path} cannot be read ({error.strerror})") from None
        return cls(settings.domain, settings.selector, private_key)

    def sign(self, message: bytes) -> bytes:
        """The message with its DKIM-Signature header first."""
        import dkim  # type: ignore[import-untyped]  # here: a send without [dkim] never loads dkimpy

        try:
            signature: bytes = dkim.sign(
                message, self.selector.encode(), self.domain.encode(), self._key,
                canonicalize=(b"relaxed", b"relaxed"), include_headers=list(SIGNED),
            )
        except dkim.DKIMException as error:
            raise ConfigError("dkim", f"cannot sign with this key and domain ({error})") from None
        return signature + message
