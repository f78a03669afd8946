"""Where a week's issue is in its life, apart from its table: `newsletter status` names the state
without importing SQLAlchemy (`issues/glance.py`)."""

from __future__ import annotations

import enum


class IssueState(enum.StrEnum):
    """Where a week's issue is in its life; no row at all means nothing has been decided yet."""

    DRAFT = "draft"            # frozen and proofed; sent at the cron time in auto mode
    APPROVED = "approved"      # a reviewer said yes
    HELD = "held"              # a reviewer said not yet: nobody sends it until it is approved
    SENDING = "sending"        # its send has started
    PAUSED = "paused"          # its send was paused (by a person, or by itself); resume continues it
    SENT = "sent"              # no row is left to send (deferred ones are retried)
    CANCELLED = "cancelled"    # stopped for good; the unsent rows were skipped
    SKIPPED = "skipped"        # no issue this week


def describe(state: IssueState | None) -> str:
    """The state as `status` and `issue show` print it; no state at all is "not drafted yet"."""
    return "not drafted yet" if state is None else state.value
