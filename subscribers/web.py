"""The sign-up endpoint: the form, double opt-in, one-click unsubscribe, health.

`POST /subscribe` answers alike for a new, pending, confirmed, unsubscribed or undeliverable address,
and does the same work for each (it queues the sign-up and wakes the worker, which finds out the rest),
so nobody can learn from its answer or its timing who is on the list. Confirm and unsubscribe act only
on POST.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from newsletter.translations import N_
from subscribers import signups
from subscribers.addresses import Address
from subscribers.blocking import Blocking
from subscribers.errors import AddressError, SubscriberError, TokenError
from subscribers.forms import MAX_BODY, posted_from_elsewhere, posted_json, read_fields
from subscribers.group_commit import GroupCommit
from subscribers.guard import Guard
from subscribers.manage import ReaderPage
from subscribers.origins import Origins
from subscribers.pages import NO_STORE, Pages, json_answer
from subscribers.ratelimit import RateLimiter, client_key
from subscribers.side import Subscribers
from subscribers.store import Action, Consent
from subscribers.tokens import Claims, Purpose

log = logging.getLogger("subscribers.web")
# How long /healthz waits for the database's write lock before it answers 503.
HEALTH_WAIT_MS = 1000
CHECK_INBOX = (N_("Check your inbox"),
               (N_("If this address can receive email, a message is on its way with a link to confirm. "
                   "Nothing else is sent until you press the button behind that link."),
                N_("No email after a few minutes? Look in the spam folder, or sign up again in an hour.")))


class Endpoint:
    """The request handlers, sharing the subscriber side, the pages and the rate limits."""

    def __init__(self, side: Subscribers, pages: Pages, *, wake: Callable[[], None] | None = None,
                 blocking: Blocking | None = None) -> None:
        self.side = side
        self.pages = pages
        self.wake = wake or (lambda: None)
        self.blocking = blocking or Blocking(side.engine)
        # The side's clock, so that tests that freeze it get limits that do not drift across a minute.
        clock = lambda: side.now().timestamp()  # noqa: E731
        # Per client only: a limit per address or mailbox would answer differently once someone else had
        # submitted it. Those limits apply where the worker decides on the email (MailboxLimits).
        self.per_client = RateLimiter(side.settings.signups_per_client, 60.0, clock=clock)
        self.consent = Consent(form="web-signup", text_version=pages.signup_version)
        self.origins = Origins(side.settings.allowed_origins)
        self.signups: GroupCommit[tuple[Address, Consent], None] = GroupCommit(
            side.store.queue_sign_ups, self.blocking)

    async def home(self, request: Request) -> Response:
        return self.pages.signup()

    async def stylesheet(self, request: Request) -> Response:
        return self.pages.stylesheet()

    async def favicon(self, request: Request) -> Response:
        # Browsers ask for it on every page; "no content" keeps their consoles and the logs quiet.
        return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})

    async def health(self, request: Request) -> Response:
        """ok while a sign-up could be written now; 503 while not (a locked or unreachable database).

        On its own thread, not behind the sign-ups queued for the database, so it answers within
        HEALTH_WAIT_MS even when they are stuck.
        """
        try:
            await anyio.to_thread.run_sync(signups.check_writable, self.side.engine, HEALTH_WAIT_MS)
        except Exception:
            return PlainTextResponse("database unavailable\n", 503)
        return PlainTextResponse("ok\n")

    async def subscribe(self, request: Request) -> Response:
        """POST /subscribe, from our own page or a page on an allowed origin; CORS headers for the latter."""
        answer = await self._subscribe(request)
        answer.headers.update(self.origins.cors(request))
        return answer

    async def preflight(self, request: Request) -> Response:
        return self.origins.preflight(request)

    async def form_token(self, request: Request) -> Response:
        """GET /form-token: a fresh form token as JSON, for the sign-up box on an allowed origin's page."""
        token = self.side.signer.form_token(self.side.now() + self.pages.form_lifetime)
        return json_answer({"form_token": token}, headers=self.origins.cors(request))

    async def challenge(self, request: Request) -> Response:
        """GET /altcha-challenge: a proof-of-work challenge for the sign-up form's script."""
        return json_answer(self.side.proof_of_work.challenge(), headers=self.origins.cors(request))

    async def script(self, request: Request) -> Response:
        return self.pages.script()

    async def _subscribe(self, request: Request) -> Response:
        as_json = posted_json(request)
        wait = self.per_client.hit(client_key(request.client.host if request.client else None))
        if wait:
            return self._too_many(wait, as_json)
        if self.origins.sender(request) is None and posted_from_elsewhere(request, self.side.settings.base_url):
            problem = self.pages.words(N_("This form can only be sent from its own page on this site. Open the "
                                          "sign-up page and send it from there."))
            return (json_answer({"error": problem}, 403) if as_json
                    else self.pages.signup(status=403, problem=problem))
        fields = await read_fields(request)
        thanks = None if as_json else self.origins.thank_you(fields.get("thanks", ""))
        if fields.get("website"):
            return self._accepted(as_json, thanks)  # the honeypot: answer as usual, keep nothing
        try:
            self.side.signer.verify(fields.get("form_token", ""), Purpose.FORM, self.side.now())
        except TokenError:
            problem = self.pages.words(N_("This form was open too long or did not come from this site. "
                                          "Please send it again."))
            return (json_answer({"error": problem, "field": "form_token"}, 400) if as_json
                    else self.pages.signup(status=400, problem=problem))
        if self.side.settings.proof_of_work and not self.side.proof_of_work.passed(fields.get("altcha", "")):
            return self._accepted(as_json, thanks)  # no oracle: answered as a sign-up, nothing kept or sent
        return await self._sign_up(fields.get("email", ""), as_json, thanks)

    async def _sign_up(self, typed: str, as_json: bool, thanks: str | None = None) -> Response:
        try:
            address = await self._parse(typed)
        except AddressError as error:
            if error.plausible:
                return self._accepted(as_json, thanks)
            return (json_answer({"error": error.reason, "field": "email"}, 400) if as_json
                    else self.pages.signup(status=400, error=error.reason))
        await self.signups.submit((address, self.consent))
        self.wake()
        return self._accepted(as_json, thanks)

    async def confirm_page(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        self._claims(token, Purpose.CONFIRM)
        return self.pages.action(N_("Confirm your subscription"),
                                 N_("Press the button to start getting the newsletter at this address."),
                                 "confirm", token, N_("Confirm my subscription"))

    async def confirm(self, request: Request) -> Response:
        claims = self._claims(await self._token(request), Purpose.CONFIRM)
        outcome = await self.blocking(self.side.store.confirm, claims.subscriber_id, claims.nonce)
        if outcome in (Action.DONE, Action.ALREADY):
            manage = self.side.links.manage_url(claims.subscriber_id, claims.nonce)
            return self.pages.welcome(manage.rsplit("/", 1)[1])
        return self._lost(outcome)

    async def unsubscribe_page(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        self._claims(token, Purpose.UNSUBSCRIBE)
        return self.pages.action(N_("Unsubscribe"), N_("Press the button and no more issues are sent to this address."),
                                 "unsubscribe", token, N_("Unsubscribe"))

    async def unsubscribe(self, request: Request) -> Response:
        """The button on the page, and RFC 8058 one-click: POST ?token=... with List-Unsubscribe=One-Click."""
        claims = self._claims(await self._token(request), Purpose.UNSUBSCRIBE)
        outcome = await self.blocking(self.side.store.unsubscribe, claims.subscriber_id, claims.nonce)
        if outcome in (Action.DONE, Action.ALREADY, Action.GONE):
            return self.pages.message(N_("You are unsubscribed"), (
                N_("No more issues will be sent to this address. It has been deleted from the list; "
                   "only a one-way fingerprint stays, so that it is never written to again."),
                N_("Changed your mind? You can sign up again at any time.")), back=True)
        return self._lost(outcome)

    async def _parse(self, typed: str) -> Address:
        if self.side.settings.dns_checks:  # DNS can take seconds: never on the event loop
            return await anyio.to_thread.run_sync(lambda: self.side.parse(typed, new=True))
        return self.side.parse(typed, new=True)

    async def _token(self, request: Request) -> str:
        fields = await read_fields(request)
        return request.query_params.get("token") or fields.get("token", "")

    def _claims(self, token: str, purpose: Purpose) -> Claims:
        try:
            return self.side.signer.verify(token, purpose, self.side.now())
        except TokenError as error:
            raise _LinkError(error) from None

    def _lost(self, outcome: Action) -> Response:
        if outcome is Action.STALE:
            return self.pages.message(N_("This link is out of date"), (
                N_("It belongs to an earlier subscription of this address. Use the link in the most "
                   "recent email from us."),), status=400, back=True)
        return self.pages.message(N_("This sign-up no longer exists"), (
            self.pages.unconfirmed_are_deleted(self.side.settings.pending.days),), status=400, back=True)

    def _accepted(self, as_json: bool, thanks: str | None = None) -> Response:
        heading, paragraphs = CHECK_INBOX
        if thanks is not None:  # a thank-you page on an allowed origin (Origins.thank_you), never elsewhere
            return RedirectResponse(thanks, 303, headers=NO_STORE)
        if as_json:
            return json_answer({"status": "check-your-inbox", "message": self.pages.words(paragraphs[0])})
        return self.pages.message(heading, paragraphs)

    def _too_many(self, wait: int, as_json: bool) -> Response:
        headers = {"Retry-After": str(wait)}
        text_ = self.pages.words(N_("Too many sign-ups from here. Please try again in %(wait)s."),
                                 wait=self.pages.duration(wait))
        if as_json:
            return json_answer({"error": text_}, 429, headers)
        return self.pages.message(N_("Please wait a moment"), (text_,), status=429, headers=headers, back=True)


class _LinkError(Exception):
    def __init__(self, error: TokenError) -> None:
        self.error = error


def create_app(side: Subscribers, pages: Pages, *, wake: Callable[[], None] | None = None,
               blocking: Blocking | None = None, routes: Sequence[BaseRoute] = (),
               forget: Callable[[int], None] | None = None,
               history: Callable[[int], list[dict[str, str | None]]] | None = None) -> ASGIApp:
    """The endpoint as an ASGI app; `wake` is called for every sign-up queued for the worker.

    `routes` are the site's other pages (the service adds the archive), served with the same error pages
    and security headers. `forget(subscriber_id)` deletes the pipeline's rows of a reader who deletes
    everything from their own page; `history(subscriber_id)` tells which issues went to them and how.
    """
    endpoint = Endpoint(side, pages, wake=wake, blocking=blocking)
    reader = ReaderPage(side, pages, endpoint.blocking, forget, history)

    async def link_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, _LinkError)
        expired = error.error.expired
        heading = N_("This link has expired") if expired else N_("This link does not work")
        advice = (N_("Sign up again to get a new one.") if expired
                  else N_("Open it from the email once more, or copy the whole link into the address bar."))
        return pages.message(heading, (error.error.reason, advice), status=400, back=True)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if posted_json(request):
            return json_answer({"error": error.detail}, error.status_code, error.headers)
        heading = {404: N_("Page not found"), 405: N_("Not allowed here"), 413: N_("Too much data")}.get(
            error.status_code, N_("That did not work"))
        return pages.message(heading, (error.detail,), status=error.status_code, back=True,
                             headers=error.headers)

    async def subscriber_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, SubscriberError)
        # Our messages carry no address, but they are meant for the admin: the log, not the visitor.
        log.error("%s %s: %s", request.method, request.url.path, error)
        return pages.message(N_("Something went wrong"), (
            N_("The error is on our side and has been logged. Please try again in a minute."),),
            status=error.http_status, back=True)

    async def server_error(request: Request, error: Exception) -> Response:
        return pages.message(N_("Something went wrong"), (
            N_("The error is on our side and has been logged. Please try again in a minute."),), status=500)

    table = [
        Route("/", endpoint.home, methods=["GET"]),
        Route("/site.css", endpoint.stylesheet, methods=["GET"]),
        Route("/favicon.ico", endpoint.favicon, methods=["GET"]),
        Route("/subscribe", endpoint.subscribe, methods=["POST"]),
        Route("/subscribe", endpoint.preflight, methods=["OPTIONS"]),
        Route("/form-token", endpoint.form_token, methods=["GET"]),
        Route("/altcha-challenge", endpoint.challenge, methods=["GET"]),
        Route("/altcha.js", endpoint.script, methods=["GET"]),
        Route("/confirm", endpoint.confirm_page, methods=["GET"]),
        Route("/confirm", endpoint.confirm, methods=["POST"]),
        Route("/unsubscribe", endpoint.unsubscribe_page, methods=["GET"]),
        Route("/unsubscribe", endpoint.unsubscribe, methods=["POST"]),
        Route("/healthz", endpoint.health, methods=["GET"]),
        *reader.routes(),
        *routes,
    ]
    app = Starlette(routes=table, exception_handlers={
        HTTPException: http_error, _LinkError: link_error, SubscriberError: subscriber_error,
        Exception: server_error,
    })
    return Guard(app, max_body=MAX_BODY, https=side.settings.base_url.startswith("https:"))
