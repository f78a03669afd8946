"""The subscriber side assembled from the config: keys (checked against the list's), store, outbox and links,
made once per process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from newsletter.config.settings import Config
from subscribers import key_check
from subscribers.addresses import Address, parse
from subscribers.crypto import AddressCrypto
from subscribers.keys import load_keys
from subscribers.links import Links
from subscribers.outbox import Outbox
from subscribers.proof_of_work import ProofOfWork
from subscribers.settings import SubscriberSettings
from subscribers.store import SubscriberStore
from subscribers.tables import utcnow
from subscribers.tokens import TokenSigner
from subscribers.verp import ReturnAddresses


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
        self.proof_of_work = ProofOfWork(keys.tokens, now)
        self.store = SubscriberStore(engine, self.crypto, now, resubscribe_after=self.settings.resubscribe,
                                     welcome=self.settings.welcome)
        self.outbox = Outbox(engine, now)
        self.links = Links(self.settings.base_url, self.signer, self.settings.pending, now)
        self.returns = ReturnAddresses.from_config(config, keys.tokens, lambda: now().date())

    def parse(self, text: str, *, new: bool = False) -> Address:
        """An address as the settings want it checked (DNS or not).

        `new` for an address joining the list (sign-up, import): only then do the rules for what the
        relay can deliver apply, so that an address stored earlier can still be looked up and erased.
        """
        return parse(text, dns_checks=self.settings.dns_checks, smtputf8=self.settings.smtputf8 or not new)


def key_origin(settings: SubscriberSettings) -> str:
    """Where the key comes from, in words for messages: "in PATH" or "from NEWSLETTER_PRIVACY_KEY"."""
    return "from NEWSLETTER_PRIVACY_KEY" if settings.key else f"in {settings.key_file}"
