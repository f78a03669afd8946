"""What wraps every answer of the endpoint: security headers, a body size limit, and errors logged safely.

Logged errors show the kind of exception and where it happened, never its message: messages of
library exceptions can quote request data, and request data can hold an address.
"""

from __future__ import annotations

import logging
import traceback

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("subscribers.web")

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")


class Guard:
    """ASGI middleware around the whole app."""

    def __init__(self, app: ASGIApp, *, max_body: int, https: bool) -> None:
        self.app = app
        self.max_body = max_body
        self.headers = [*HEADERS, HSTS] if https else list(HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body:
                # Raised inside the endpoint's read, so Starlette answers it with the 413 page.
                raise HTTPException(413, "The request is too large.")
            return message

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A header the answer sets itself wins (the script other sites load is cross-origin).
                own = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(header for header in self.headers if header[0] not in own)]
            await send(message)

        try:
            await self.app(scope, counted, secured)
        except ClientDisconnect:  # nothing went wrong here: there is nobody left to answer
            log.info("%s %s: the client went away mid-request", scope.get("method"), scope.get("path"))
        except Exception as error:  # Starlette has already answered with the 500 page
            where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}"
                                for f in reversed(traceback.extract_tb(error.__traceback__)[-4:]))
            log.error("%s %s failed with %s at %s", scope.get("method"), scope.get("path"),
                      type(error).__name__, where)
