"""What the pipeline keeps about one subscriber, deleted: their ledger rows and their returned-mail
records. `subscribers erase` and the reader's "delete everything" both call it before the subscriber
side deletes the subscriber, so that if that second step fails the address is still on the list and the
erase can be run again (the other order could leave rows nobody can find any more)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from newsletter.delivery import ledger
from newsletter.inbound import store as returned


def erase_records(session: Session, subscriber_id: int) -> None:
    """Delete every pipeline record of `subscriber_id`, in the caller's transaction."""
    ledger.forget_subscriber(session, subscriber_id)
    returned.forget_returns(session, subscriber_id)
