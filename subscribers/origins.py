"""Other sites that may carry the sign-up box (`[web] allowed_origins`): which requests come from them,
the CORS headers their scripts need, and where a visitor may be sent back to.

A browser names the page a request comes from in `Origin` (every cross-site POST and CORS request), or,
when it leaves that out, in `Referer`; either counts when it is one of the allowed origins. Nothing here
widens what our own pages allow: they still forbid framing and post only to this site.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

PREFLIGHT_SECONDS = 600


def origin_of(url: str) -> str | None:
    """"scheme://host[:port]" of an http(s) URL, lowercased; None for anything else."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # "http://[", a bracket with no address in it: a visitor's Referer may say anything
        return None
    if parts.scheme not in {"http", "https"} or not parts.netloc or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class Origins:
    """The allowed origins, and what follows from them for one request."""

    def __init__(self, allowed: frozenset[str]) -> None:
        self.allowed = allowed

    def sender(self, request: Request) -> str | None:
        """The allowed origin this request was sent from, or None (our own page, another site, no browser)."""
        origin = request.headers.get("origin")
        if origin is None:
            referer = request.headers.get("referer")
            origin = origin_of(referer) if referer else None
        origin = origin.strip().lower().rstrip("/") if origin else None
        return origin if origin in self.allowed else None

    def cors(self, request: Request) -> Mapping[str, str]:
        """Headers that let a script on an allowed origin read the answer; none for anyone else."""
        origin = request.headers.get("origin", "").strip().lower().rstrip("/")
        if origin not in self.allowed:
            return {"Vary": "Origin"}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def preflight(self, request: Request) -> Response:
        """The answer to a CORS preflight for a JSON POST: allowed origins only, and nothing else asked."""
        headers = dict(self.cors(request))
        if "Access-Control-Allow-Origin" in headers:
            headers |= {"Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": "content-type",
                        "Access-Control-Max-Age": str(PREFLIGHT_SECONDS)}
        return Response(status_code=204, headers=headers)

    def thank_you(self, url: str) -> str | None:
        """`url` when it is a page on an allowed origin (so never an open redirect); None otherwise."""
        if not url or len(url) > 2000 or any(c <= " " or c > "~" for c in url):
            return None
        return url if origin_of(url) in self.allowed else None
