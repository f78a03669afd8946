"""The reader's own page, reached by the signed link in every issue: pause, change address
(`address_change.py`), see and download what is kept, unsubscribe, or delete everything.

No login: the link's token names one subscription (id and nonce), as the unsubscribe link does. GET
only shows; every change is a POST to the same URL with a `do` field, so a mail scanner that opens the
link changes nothing, and the page works without JavaScript. Each change is written to the consent
record (what and when; never an IP address).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from newsletter.translations import N_
from subscribers.address_change import AddressChange
from subscribers.blocking import Blocking
from subscribers.consent_events import pause_detail
from subscribers.disclosure import STATUS_WORDS, as_document, in_words
from subscribers.errors import TokenError
from subscribers.forms import posted_from_elsewhere, read_fields
from subscribers.pages import NO_STORE, Pages
from subscribers.side import Subscribers
from subscribers.store import Action, Kept
from subscribers.tables import Status
from subscribers.tokens import Claims, Purpose

PAUSES = {"1": 1, "2": 2, "4": 4, "8": 8}  # the choice of weeks on the page
NO_LINK = (N_("Open your own page from an email"), (
    N_("This page needs the link at the foot of any issue (“Manage your subscription”): it carries a "
       "signature that opens your subscription, and nobody else's."),))
GONE = (N_("This subscription no longer exists"), (
    N_("Nothing is kept under this link any more: the subscription was deleted, or the address signed up "
       "again and got a new link. Use the link in the most recent email from us."),))
NOT_FROM_HERE = N_("This form can only be sent from your own page on this site. Open the link from the email "
                   "again.")


class ReaderPage:
    """GET and POST /manage. `forget(subscriber_id)` deletes what the pipeline keeps (the ledger's rows);
    `history(subscriber_id)` lists the issues sent and their outcomes, for the download; the composition
    root passes both, as it does for `subscribers erase`."""

    def __init__(self, side: Subscribers, pages: Pages, blocking: Blocking,
                 forget: Callable[[int], None] | None = None,
                 history: Callable[[int], list[dict[str, str | None]]] | None = None) -> None:
        self.side = side
        self.pages = pages
        self.blocking = blocking
        self.forget = forget or (lambda subscriber_id: None)
        self.history = history or (lambda subscriber_id: [])
        self.address_change = AddressChange(side, pages, blocking)

    def routes(self) -> list[Route]:
        return [Route("/manage", self.show, methods=["GET"]), Route("/manage", self.act, methods=["POST"]),
                *self.address_change.routes()]

    async def show(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        if not token:
            return self.pages.message(*NO_LINK, back=True)
        opened = await self._open(token)
        if isinstance(opened, Response):
            return opened
        return self._page(opened[1], token)

    async def act(self, request: Request) -> Response:
        found = await self._posted(request)
        if isinstance(found, Response):
            return found
        claims, kept, token, fields = found
        what = fields.get("do", "")
        if what in ("download", "erase", "change"):
            return await self._not_a_step(what, request, claims, kept, token, fields)
        change = self._change(what, fields.get("weeks", ""))
        if isinstance(change, str):
            return self._page(kept, token, status=400, problem=change)
        step, notice = change
        outcome = await self.blocking(step, claims.subscriber_id, claims.nonce)
        after = await self.blocking(self.side.store.kept, claims.subscriber_id, claims.nonce)
        if after is None:
            return self.pages.message(*GONE, status=400, back=True)
        if outcome in (Action.DONE, Action.ALREADY):
            return self._page(after, token, notice=notice)
        return self._page(after, token, status=409, problem=self.pages.words(
            N_("Nothing was changed: that is not possible while the subscription is in this state (%(status)s)."),
            status=self.pages.words(STATUS_WORDS[after.status])))

    async def _not_a_step(self, what: str, request: Request, claims: Claims, kept: Kept, token: str,
                          fields: dict[str, str]) -> Response:
        """The actions that are more than one step of the store: download, erase, a new address."""
        if what == "download":
            return self._download(kept, await self.blocking(self.history, claims.subscriber_id))
        if what == "erase":
            return await self._erase(claims, kept, token, fields)
        notice, problem = await self.address_change.request(request, claims, fields.get("email", ""))
        after = await self.blocking(self.side.store.kept, claims.subscriber_id, claims.nonce)
        return self._page(after or kept, token, status=400 if problem else 200, notice=notice, problem=problem)

    async def _posted(self, request: Request) -> tuple[Claims, Kept, str, dict[str, str]] | Response:
        """The posted fields and the subscription their token opens, or the page that says why not."""
        if posted_from_elsewhere(request, self.side.settings.base_url):
            return self.pages.message(N_("That did not work"), (NOT_FROM_HERE,), status=403, back=True)
        fields = await read_fields(request)
        token = fields.get("token", "")
        opened = await self._open(token)
        if isinstance(opened, Response):
            return opened
        return *opened, token, fields

    async def _open(self, token: str) -> tuple[Claims, Kept] | Response:
        """The subscription `token` opens and what is kept about it, or the page that says why not."""
        claims = self._claims(token)
        if isinstance(claims, Response):
            return claims
        kept = await self.blocking(self.side.store.kept, claims.subscriber_id, claims.nonce)
        if kept is None:
            return self.pages.message(*GONE, status=400, back=True)
        return claims, kept

    def _change(self, what: str, weeks_text: str) -> tuple[Callable[[int, str], Action], str] | str:
        """The store's step for `what` and the notice once done, or what is wrong with the request."""
        store = self.side.store
        if what == "pause":
            weeks = PAUSES.get(weeks_text)
            if weeks is None:
                return self.pages.words(N_("Choose how long to pause: 1, 2, 4 or 8 weeks."))
            until = self.side.now() + timedelta(weeks=weeks)
            detail = pause_detail(weeks)
            return (lambda subscriber_id, nonce: store.pause(subscriber_id, nonce, until, detail),
                    self.pages.words(N_("Paused. No issue is sent before %(date)s; then they start again by "
                                        "themselves."), date=self.pages.moment(until)))
        if what == "resume":
            return store.resume, self.pages.words(N_("Started again: the next issue comes to this address."))
        if what == "leave":
            return store.leave, self.pages.words(N_(
                "Unsubscribed. No more issues are sent; the address itself is deleted, only a one-way "
                "fingerprint stays so that it is never written to again."))
        return self.pages.words(N_("Choose one of the buttons on this page."))

    async def _erase(self, claims: Claims, kept: Kept, token: str, fields: dict[str, str]) -> Response:
        if fields.get("sure") != "yes":
            return self._page(kept, token, status=400,
                              problem=self.pages.words(N_("Tick the box to say you want everything deleted; "
                                                          "nothing was deleted.")))
        # The pipeline's rows first: should the second step fail, the page still opens and can be used again.
        await self.blocking(self.forget, claims.subscriber_id)
        await self.blocking(self.side.store.erase_subscription, claims.subscriber_id, claims.nonce)
        return self.pages.message(N_("Everything is deleted"), (
            N_("Your address, its fingerprint, your consent record and the list of issues sent to you are gone. "
               "This link no longer opens anything."),
            N_("You can sign up again at any time; it starts a new subscription.")), back=True)

    def _download(self, kept: Kept, issues: list[dict[str, str | None]]) -> Response:
        document = as_document(kept, self.side.config.newsletter.title, issues)
        body = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        return Response(body, media_type="application/json", headers={
            **NO_STORE, "Content-Disposition": 'attachment; filename="my-subscription.json"'})

    def _page(self, kept: Kept, token: str, *, status: int = 200, notice: str | None = None,
              problem: str | None = None) -> Response:
        paused = (kept.paused_until is not None and kept.paused_until > self.side.now()
                  and kept.status is Status.CONFIRMED)
        return self.pages.manage(kept.status, in_words(kept, self.pages), token,
                                 paused=paused, status_code=status, notice=notice, problem=problem)

    def _claims(self, token: str) -> Claims | Response:
        try:
            return self.side.signer.verify(token, Purpose.MANAGE, self.side.now())
        except TokenError as error:
            return self.pages.message(N_("This link does not work"), (
                error.reason, N_("Open it from the email once more, or copy the whole link into the address bar.")),
                status=400, back=True)
