"""The pages behind a proof's Approve and Hold links (`proofs.py` makes them).

As with confirmation: opening a link (GET) only shows a page with one button, so a mail scanner that
follows every link approves or holds nothing; the button POSTs the token back and that acts. A token
that is forged, expired or for something else, or that names a draft the editor has changed since
(its fingerprint is not the draft's any more), gets a page that says so, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import anyio.to_thread
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from newsletter.config.settings import Config
from newsletter.db.schema import utcnow
from newsletter.errors import IssueStateError
from newsletter.issues import life
from newsletter.issues.prepare import PreparedIssue, prepare
from newsletter.issues.tables import IssueState
from newsletter.service.proofs import draft_fingerprint
from newsletter.weeks import IsoWeek
from subscribers.errors import TokenError
from subscribers.pages import Pages
from subscribers.tokens import Purpose, TokenSigner

ACTIONS = {"approve": (IssueState.APPROVED, "Approve"), "hold": (IssueState.HELD, "Hold")}
BY = "reviewer (proof link)"


class ReviewPages:
    def __init__(self, config: Config, engine: Engine, signer: TokenSigner, pages: Pages,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.config = config
        self.sessions = sessionmaker(engine)
        self.signer = signer
        self.pages = pages
        self.now = now

    def routes(self) -> list[BaseRoute]:
        return [Route("/review/{action}", self.show, methods=["GET"]),
                Route("/review/{action}", self.act, methods=["POST"])]

    def _claims(self, action: str, token: str) -> tuple[IsoWeek, str]:
        if action not in ACTIONS:
            raise HTTPException(404, "There is no such page.")
        claims = self.signer.verify(token, Purpose.REVIEW, self.now())
        number = claims.subscriber_id
        return IsoWeek(number // 100, number % 100), claims.nonce

    async def show(self, request: Request) -> Response:
        action = request.path_params["action"]
        try:
            week, _ = self._claims(action, request.query_params.get("token", ""))
        except TokenError as error:
            return self.pages.message("This link does not work", [error.reason], status=400)
        verb = ACTIONS[action][1]
        explanation = (f"Press the button to {verb.lower()} the issue of {week}: "
                       + ("it is sent at the next scheduled send." if action == "approve" else
                          "nobody sends it until it is approved."))
        return self.pages.action(f"{verb} {week}", explanation, action, request.query_params["token"], verb)

    async def act(self, request: Request) -> Response:
        action = request.path_params["action"]
        form = await request.form()
        token = form.get("token")
        try:
            week, fingerprint = self._claims(action, token if isinstance(token, str) else "")
        except TokenError as error:
            return self.pages.message("This link does not work", [error.reason], status=400)
        problem = await anyio.to_thread.run_sync(self._move, week, fingerprint, ACTIONS[action][0])
        if problem is not None:
            return self.pages.message(f"{week} was not changed", [problem], status=409)
        return self.pages.message(f"{week} is {ACTIONS[action][0].value}",
                                  [f"Thank you. `newsletter issue show --week {week}` shows its history."])

    def _move(self, week: IsoWeek, fingerprint: str, to: IssueState) -> str | None:
        with self.sessions.begin() as session:
            prepared = prepare(self.config, session, week)
            if not isinstance(prepared, PreparedIssue) or draft_fingerprint(prepared) != fingerprint:
                return ("This proof is out of date: the draft changed after it was sent. "
                        "Use the links of the newest proof.")
            try:
                life.move(session, week, to, by=BY, reason=None, now=self.now())
            except IssueStateError as refused:
                return str(refused)
        return None
