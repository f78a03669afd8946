"""The states of a delivery row, apart from its table: the commands that only count them
(`newsletter status`, through `delivery/glance.py`) name them without importing SQLAlchemy."""

from __future__ import annotations

import enum


class DeliveryState(enum.StrEnum):
    PENDING = "pending"      # snapshotted, not tried yet
    SENDING = "sending"      # claimed by `owner`, whose lease it renews, until lease_until
    SENT = "sent"            # the server accepted it
    DEFERRED = "deferred"    # a temporary failure; tried again at next_attempt_at
    FAILED = "failed"        # refused for good (5xx), or deferred for longer than give_up_after
    SKIPPED = "skipped"      # unsubscribed, bounced or erased before it was sent
    BOUNCED = "bounced"      # sent, then a bounce came back by mail (newsletter.inbound)
    COMPLAINED = "complained"  # sent, then the recipient reported it as spam (an ARF complaint)


# What a send can make of a row; a sent row can then become bounced or complained (late outcomes).
SEND_OUTCOMES = (DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.SKIPPED)
FINAL_STATES = (*SEND_OUTCOMES, DeliveryState.BOUNCED, DeliveryState.COMPLAINED)
