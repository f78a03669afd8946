"""The links in emails: confirm (expires with the pending sign-up), unsubscribe and the reader's own page
(neither expires; both stop working when the subscription they name ends or is erased)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import quote

from subscribers.tables import utcnow
from subscribers.tokens import Purpose, TokenSigner


class Links:
    """Absolute URLs under `base_url` carrying signed, scoped tokens."""

    def __init__(self, base_url: str, signer: TokenSigner, confirm_for: timedelta,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.base_url = base_url.rstrip("/")
        self._signer = signer
        self._confirm_for = confirm_for
        self._now = now

    def confirm_url(self, subscriber_id: int, nonce: str) -> str:
        token = self._signer.issue(Purpose.CONFIRM, subscriber_id, nonce, self._now() + self._confirm_for)
        return f"{self.base_url}/confirm?token={quote(token)}"

    def unsubscribe_url(self, subscriber_id: int, nonce: str) -> str:
        token = self._signer.issue(Purpose.UNSUBSCRIBE, subscriber_id, nonce, None)
        return f"{self.base_url}/unsubscribe?token={quote(token)}"

    def manage_url(self, subscriber_id: int, nonce: str) -> str:
        token = self._signer.issue(Purpose.MANAGE, subscriber_id, nonce, None)
        return f"{self.base_url}/manage?token={quote(token)}"

    def change_url(self, subscriber_id: int, change_nonce: str) -> str:
        """The link that confirms a new address; it expires as a sign-up's confirm link does."""
        token = self._signer.issue(Purpose.CHANGE, subscriber_id, change_nonce, self._now() + self._confirm_for)
        return f"{self.base_url}/manage/change?token={quote(token)}"
