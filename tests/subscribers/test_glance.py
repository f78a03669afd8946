"""The list's read-only window (`subscribers/glance.py`, through the driver) answers as the store and the
outbox do, and needs no key."""

from __future__ import annotations

from newsletter.db.reader import reading
from subscribers import glance
from subscribers.addresses import parse
from subscribers.side import Subscribers
from subscribers.states import Status
from subscribers.store import Consent


def test_every_status_and_mail_state_is_counted_as_the_store_counts_it(side: Subscribers,
                                                                        database_url: str) -> None:
    for n in range(5):
        side.store.add_confirmed(parse(f"reader{n}@example.com"), Consent("import", "test"))
    for n in range(3):
        side.store.sign_up(parse(f"new{n}@example.org"), Consent("form", "test"))
    bounced = side.store.identify(parse("reader0@example.com"))
    assert bounced is not None
    side.store.mark_bounced([bounced])
    side.store.suppress(parse("gone1@example.net"), Status.BOUNCED)  # imported: no consent, no address
    side.store.suppress(parse("gone2@example.net"), Status.UNSUBSCRIBED)
    with reading(database_url) as reader:
        assert glance.statuses(reader) == side.store.counts()
        assert glance.mail_states(reader) == side.outbox.counts()
        assert glance.suppressions(reader) == side.store.suppression_counts()
        assert glance.suppressions(reader)[1] == 2
