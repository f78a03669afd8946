"""The settings the subscriber side reads, gathered from the Config in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from newsletter.config.settings import Config


@dataclass(frozen=True, repr=False)
class SubscriberSettings:
    """What the store, the endpoint and the outbox worker need to know; repr hides the key."""

    base_url: str
    pending: timedelta
    resubscribe: timedelta  # an unsubscribed or bounced address gets at most one confirmation per this
    key_file: Path
    key: str
    dns_checks: bool
    smtputf8: bool  # accept new addresses whose local part is not ASCII
    signups_per_client: int   # per minute, from one client (IPv4 address or IPv6 /64)
    signups_per_address: int  # per hour, for one mailbox (name+tag@ is name@)
    signups_per_domain: int   # per hour, for one domain
    give_up_after: timedelta
    lease: timedelta
    host: str
    port: int
    allowed_origins: frozenset[str]  # other sites whose pages may carry the sign-up form, as "scheme://host"
    proof_of_work: bool  # the sign-up form must carry a solved ALTCHA challenge
    welcome: bool = False  # a reader who confirms is sent the latest issue (`[subscribers] welcome = "latest"`)

    def __repr__(self) -> str:
        return f"SubscriberSettings(base_url={self.base_url!r}, ...)"

    @classmethod
    def from_config(cls, config: Config) -> SubscriberSettings:
        return cls(
            base_url=config.web.base_url.rstrip("/"),
            pending=timedelta(days=config.subscribers.pending_days),
            resubscribe=timedelta(days=config.subscribers.resubscribe_days),
            key_file=config.path(config.privacy.key_file),
            key=config.privacy.key,
            dns_checks=config.subscribers.dns_checks,
            smtputf8=config.subscribers.smtputf8,
            signups_per_client=config.web.signups_per_client,
            signups_per_address=config.web.signups_per_address,
            signups_per_domain=config.web.signups_per_domain,
            give_up_after=timedelta(hours=config.delivery.give_up_after),
            lease=timedelta(seconds=config.delivery.lease_seconds),
            host=config.web.host,
            port=config.web.port,
            allowed_origins=frozenset(origin.rstrip("/").lower() for origin in config.web.allowed_origins),
            proof_of_work=config.web.proof_of_work,
            welcome=config.subscribers.welcome == "latest",
        )
