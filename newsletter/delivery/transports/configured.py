"""The transport `[delivery] transport` names, built from its own section of the config."""

from __future__ import annotations

from newsletter.config.settings import Config
from newsletter.delivery.transports.base import Transport
from newsletter.delivery.transports.outbox_folder import OutboxTransport
from newsletter.delivery.transports.smtp import SmtpTransport
from newsletter.errors import ConfigError


def make_transport(config: Config) -> Transport:
    """The transport `[delivery] transport` names, built from its section of the config."""
    kind = config.delivery.transport
    if kind == "outbox":
        return OutboxTransport(config.path(config.outbox.dir))
    if kind == "smtp":
        return SmtpTransport(config.smtp)
    raise ConfigError("delivery.transport", f'must be "outbox" or "smtp" (got {kind!r})')
