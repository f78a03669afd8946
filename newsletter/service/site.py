"""The site's route table: the sign-up endpoint's pages and, beside them, the archive of past issues and
the pages behind a proof's Approve and Hold links."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session
from starlette.types import ASGIApp

from newsletter.delivery import ledger
from newsletter.issues import store as issues
from newsletter.service import archive, erasure
from newsletter.service.review_pages import ReviewPages
from subscribers.blocking import Blocking
from subscribers.pages import Pages
from subscribers.side import Subscribers
from subscribers.web import create_app


def site(side: Subscribers, pages: Pages, *, wake: Callable[[], None], blocking: Blocking) -> ASGIApp:
    """Every page the service serves, as one ASGI app: `/subscribe` and friends, and `/issues/` (the
    "view in browser" pages and the feed)."""

    def forget(subscriber_id: int) -> None:
        """A reader deleted everything from their own page: the pipeline's records go first, as in `erase`."""
        with Session(side.engine) as session, session.begin():
            erasure.erase_records(session, subscriber_id)

    def history(subscriber_id: int) -> list[dict[str, str | None]]:
        """Which issues went to a reader and how each went, for their download of what is kept."""
        with Session(side.engine) as session:
            rows = ledger.deliveries_of(session, subscriber_id)
            weeks = issues.weeks_by_id(session, [issue_id for issue_id, _, _ in rows])
        return [{"issue": str(weeks[issue_id]) if issue_id in weeks else None, "outcome": state.value,
                 "at": finished.isoformat() if finished else None} for issue_id, state, finished in rows]

    routes = [*archive.routes(side.config, side.engine),
              *ReviewPages(side.config, side.engine, side.signer, pages).routes()]
    return create_app(side, pages, wake=wake, blocking=blocking, routes=routes, forget=forget, history=history)
