"""A reader's new address: asked for on their own page, in force only once the new address confirms it.

Until then the old address keeps receiving the issues. The request is checked like a sign-up: a malformed
address is refused with its reason, the client is rate-limited as the sign-up form is, and the answer is
the same whether or not the new address is already on the list (`Change` says, internally, what happened:
no mail goes to an address that has a row, and at most one an hour per subscription). The confirmation
link carries a nonce tied to that one new address (`store.change_nonce`), so a link mailed to one address
can never confirm another.
"""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from newsletter.translations import N_
from subscribers.addresses import Address
from subscribers.blocking import Blocking
from subscribers.errors import AddressError, TokenError
from subscribers.forms import read_fields
from subscribers.pages import Pages
from subscribers.ratelimit import RateLimiter, client_key
from subscribers.side import Subscribers
from subscribers.store import Action
from subscribers.tokens import Claims, Purpose

ASKED = N_("If the new address can receive email, a message is on its way to it with a link to confirm the "
           "change. Until it is confirmed, the issues keep coming to your current address.")


class AddressChange:
    """POST /manage with do=change (through `ReaderPage`), and GET/POST /manage/change from the email."""

    def __init__(self, side: Subscribers, pages: Pages, blocking: Blocking) -> None:
        self.side = side
        self.pages = pages
        self.blocking = blocking
        # As the sign-up form: per client, `[web] signups_per_client` a minute.
        self.per_client = RateLimiter(side.settings.signups_per_client, 60.0,
                                      clock=lambda: side.now().timestamp())

    def routes(self) -> list[Route]:
        return [Route("/manage/change", self.confirm_page, methods=["GET"]),
                Route("/manage/change", self.confirm, methods=["POST"])]

    async def request(self, request: Request, claims: Claims, typed: str) -> tuple[str | None, str | None]:
        """Ask for `typed` as the new address: (notice, problem) for the page; a problem changes nothing."""
        wait = self.per_client.hit(client_key(request.client.host if request.client else None))
        if wait:
            return None, self.pages.words(N_("Too many requests from here. Please try again in %(wait)s."),
                                          wait=self.pages.duration(round(wait)))
        try:
            address = await self._parse(typed)
        except AddressError as error:
            if not error.plausible:
                return None, self.pages.words(N_("That is not an address we can use: %(reason)s"),
                                              reason=self.pages.words(error.reason))
            # Well-formed but unable to take mail: answered as any other, nothing sent.
            return self.pages.words(ASKED), None
        await self.blocking(self.side.store.request_change, claims.subscriber_id, claims.nonce, address)
        return self.pages.words(ASKED), None

    async def confirm_page(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        refused = self._refused(token)
        if refused is not None:
            return refused
        return self.pages.action(N_("Confirm your new address"),
                                 N_("Press the button and the issues come to this address from now on."),
                                 "change", token, N_("Confirm my new address"))

    async def confirm(self, request: Request) -> Response:
        fields = await read_fields(request)
        token = fields.get("token", "")
        refused = self._refused(token)
        if refused is not None:
            return refused
        claims = self.side.signer.verify(token, Purpose.CHANGE, self.side.now())
        outcome = await self.blocking(self.side.store.confirm_change, claims.subscriber_id, claims.nonce)
        if outcome is Action.DONE:
            return self.pages.message(N_("Your address is changed"), (
                N_("The next issue comes to this address. The old one has been deleted from the list."),))
        if outcome is Action.ALREADY:
            return self.pages.message(N_("Nothing was changed"), (
                N_("This address joined the list some other way meanwhile, so the old one stays in force."),),
                status=409, back=True)
        return self.pages.message(N_("This link is out of date"), (
            N_("It confirms an address that is no longer waiting: the change was made, replaced by a later "
               "request, or the subscription ended. Use the link in the most recent email from us."),),
            status=400, back=True)

    async def _parse(self, typed: str) -> Address:
        if self.side.settings.dns_checks:  # DNS can take seconds: never on the event loop
            return await anyio.to_thread.run_sync(lambda: self.side.parse(typed, new=True))
        return self.side.parse(typed, new=True)

    def _refused(self, token: str) -> Response | None:
        try:
            self.side.signer.verify(token, Purpose.CHANGE, self.side.now())
        except TokenError as error:
            heading = N_("This link has expired") if error.expired else N_("This link does not work")
            return self.pages.message(heading, (error.reason, N_("Ask for the change again on your own page.")),
                                      status=400, back=True)
        return None
