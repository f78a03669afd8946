"""The one door `newsletter/` uses to reach subscribers: who is confirmed, their addresses at send time,
and bounces reported back. Nothing here lists addresses for a person: it feeds the sender a batch at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from sqlalchemy import Engine, Select

from newsletter.config.settings import Config
from newsletter.mail.recipient import Recipient
from subscribers.side import Subscribers
from subscribers.store import confirmed_ids
from subscribers.tables import utcnow

CHUNK = 500  # ids per IN (...) list


class SubscriberRecipients:
    """The sender's view of the list (`newsletter.delivery.Recipients`), on one set of keys.

    Raises KeyFileError when made if the key is missing; opening an address with the wrong key is one too.
    """

    def __init__(self, config: Config, engine: Engine, *, side: Subscribers | None = None, issue_id: int = 0,
                 now: Callable[[], datetime] = utcnow) -> None:
        self._side = side or Subscribers(config, engine, now)
        self._config = config
        self._engine = engine
        self._issue_id = issue_id

    def for_issue(self, issue_id: int) -> SubscriberRecipients:
        """The same list; each recipient's bounce address names `issue_id`."""
        return SubscriberRecipients(self._config, self._engine, side=self._side, issue_id=issue_id)

    def confirmed_ids(self) -> Select[int]:
        """Confirmed and not paused now: a reader's pause ends by itself at the first snapshot after it."""
        return confirmed_ids(self._side.now())

    def lookup(self, subscriber_ids: Sequence[int]) -> dict[int, Recipient]:
        """Those of `subscriber_ids` still confirmed, with address, unsubscribe and manage URLs: an unsubscribe
        that arrives mid-send takes effect for every message not yet sent."""
        found: dict[int, Recipient] = {}
        for start in range(0, len(subscriber_ids), CHUNK):
            chunk = subscriber_ids[start:start + CHUNK]
            found.update(self._recipients(self._side.store.confirmed_addresses(chunk)))
        return found

    def mark_bounced(self, subscriber_ids: Sequence[int]) -> None:
        """Suppress subscribers whose mail was refused for good (5xx): addresses wiped, never mailed again."""
        self._side.store.mark_bounced(subscriber_ids)

    def batches(self, batch_size: int, after_id: int = 0) -> Iterator[list[Recipient]]:
        """Confirmed subscribers with id > `after_id`, in id order, `batch_size` a query."""
        last = after_id
        while True:
            batch = self._recipients(self._side.store.confirmed_addresses(after_id=last, limit=batch_size))
            yield list(batch.values())
            if len(batch) < batch_size:
                return
            last = max(batch)

    def _recipients(self, opened: dict[int, tuple[str, str]]) -> dict[int, Recipient]:
        return {subscriber_id: self._recipient(subscriber_id, address, nonce)
                for subscriber_id, (address, nonce) in opened.items()}

    def _recipient(self, subscriber_id: int, address: str, nonce: str) -> Recipient:
        links = self._side.links
        url, manage = links.unsubscribe_url(subscriber_id, nonce), links.manage_url(subscriber_id, nonce)
        returns = self._side.returns
        if not returns.enabled:
            return Recipient(subscriber_id, address, url, manage)
        # Only a message of an issue bounces to an address naming it; a test send keeps from_address.
        bounce_to = returns.bounce_address(subscriber_id, nonce, self._issue_id) if self._issue_id else ""
        return Recipient(subscriber_id, address, url, manage, envelope_sender=bounce_to,
                         unsubscribe_mailto=returns.unsubscribe_address(subscriber_id, nonce))


def confirmed_recipients(engine: Engine, config: Config, *, batch_size: int = 500,
                         after_id: int = 0) -> Iterator[tuple[int, str, str]]:
    """Every confirmed subscriber as (subscriber_id, address, unsubscribe_url), in id order.

    Args:
        engine: the database (`newsletter init` has run).
        config: for the key and `[web] base_url`, which the unsubscribe URLs start with.
        batch_size: rows per query; memory holds one batch whatever the size of the list.
        after_id: resume after this subscriber id.

    Raises:
        KeyFileError: the key is missing or does not open the stored addresses.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    for batch in SubscriberRecipients(config, engine).batches(batch_size, after_id):
        for recipient in batch:
            yield recipient.subscriber_id, recipient.address, recipient.unsubscribe_url
