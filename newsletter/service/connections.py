"""How the site meets its clients: uvicorn's settings, and whose X-Forwarded-For counts."""

from __future__ import annotations

from typing import Any

import uvicorn
from starlette.types import ASGIApp

from newsletter.config.settings import WebSettings


def site_config(app: ASGIApp, web: WebSettings, *, host: str, port: int, **options: Any) -> uvicorn.Config:
    """The uvicorn settings `serve` and `run` share.

    X-Forwarded-For names the client only when the connection comes from one of `web.trusted_proxies`
    (none by default): otherwise any client could pick the address its rate limit is counted under.
    No access log: request lines carry confirm and unsubscribe tokens.
    """
    return uvicorn.Config(app, host=host, port=port, access_log=False, server_header=False,
                          proxy_headers=bool(web.trusted_proxies), forwarded_allow_ips=list(web.trusted_proxies),
                          lifespan="off", log_config=None, **options)
