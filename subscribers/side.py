"""The subscriber side assembled from the config: keys (checked against the list's), store, outbox and links,
made once per process."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from newsletter.config.settings import Config
from subscribers import key_check
from subscribers.crypto import AddressCrypto
from subscribers.keys import load_keys
from subscribers.links import Links
from subscribers.outbox import Outbox
from subscribers.settings import SubscriberSettings
from subscribers.store import SubscriberStore
from subscribers.tables import utcnow
from subscribers.tokens import TokenSigner
from subscribers.verp import ReturnAddresses

if TYPE_CHECKING:
    from subscribers.addresses import Address
    from subscribers.proof_of_work import ProofOfWork


class Subscribers:
    """Everything that touches subscribers, sharing one set of keys and one clock."""

    def __init__(self, config: Config, engine: Engine, now: Callable[[], datetime] = utcnow) -> None:
        self.config = config
        self.engine = engine
        self.now = now
        self.settings = SubscriberSettings.from_config(config)
        keys = load_keys(self.settings.key_file, self.settings.key)
        # Before anything can be changed: a valid key that is not the list's would fork it.
        key_check.verify(engine, keys, key_origin(self.settings))
        self.crypto = AddressCrypto(keys)
        self.signer = TokenSigner(keys.tokens)
        self._proof_key = keys.tokens
        self.store = SubscriberStore(engine, self.crypto, now, resubscribe_after=self.settings.resubscribe,
                                     welcome=self.settings.welcome)
        self.outbox = Outbox(engine, now)
        self.links = Links(self.settings.base_url, self.signer, self.settings.pending, now)
        self.returns = ReturnAddresses.from_config(config, keys.tokens, lambda: now().date())

    @functools.cached_property
    def proof_of_work(self) -> ProofOfWork:
        """The sign-up form's challenges; made (and altcha imported) by the commands that serve the form."""
        from subscribers.proof_of_work import ProofOfWork

        return ProofOfWork(self._proof_key, self.now)

    def parse(self, text: str, *, new: bool = False) -> Address:
        """An address as the settings want it checked (DNS or not).

        `new` for an address joining the list (sign-up, import): only then do the rules for what the
        relay can deliver apply, so that an address stored earlier can still be looked up and erased.
        """
        # Imported here: email-validator (15 ms) is for the commands that take addresses, not for a send.
        from subscribers.addresses import parse

        return parse(text, dns_checks=self.settings.dns_checks, smtputf8=self.settings.smtputf8 or not new)


def key_origin(settings: SubscriberSettings) -> str:
    """Where the key comes from, in words for messages: "in PATH" or "from NEWSLETTER_PRIVACY_KEY"."""
    return "from NEWSLETTER_PRIVACY_KEY" if settings.key else f"in {settings.key_file}"
