"""Reading what a client posted: a form (urlencoded or multipart) or a JSON object, of short text fields.

Text must arrive as UTF-8: bytes that are not are refused, never read with replacement characters (an
address holding U+FFFD would be confirmed and then fail every week).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request

MAX_FIELDS = 8
# Enough for any real address with room to spare; a 10 KB "address" is still read and refused politely.
MAX_BODY = 16 * 1024

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
NOT_UTF8 = "The form did not arrive as UTF-8 text. Please type the address again and send it."


# Fetch Metadata values of a request made by this site's own page, or typed in by the person.
_OWN_FETCHES = frozenset({"same-origin", "none"})


def posted_from_elsewhere(request: Request, base_url: str) -> bool:
    """Whether the browser says this POST came from another site's page.

    Sec-Fetch-Site decides when the browser sends it. Older browsers send only Origin, and as "null"
    for our own page (it asks for no referrer), so "null" and no Origin at all pass; an Origin that is
    neither `base_url`'s nor the one the request was addressed to does not. Clients that are not
    browsers send neither, and still need a form token.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.strip().lower() not in _OWN_FETCHES
    origin = request.headers.get("origin", "null").strip().lower().rstrip("/")
    if origin == "null":
        return False
    return origin not in {_origin(base_url), _origin(str(request.url))}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def posted_json(request: Request) -> bool:
    """Whether the client posted JSON (and so wants JSON back)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


async def read_fields(request: Request) -> dict[str, str]:
    """The posted text fields; HTTPException 400/415 for anything else (files, nesting, bad JSON)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        return _from_json(await request.body())
    if kind == URLENCODED:
        return _from_urlencoded(await request.body())
    if kind == MULTIPART:
        _utf8(await request.body())  # text fields only, so the whole body is UTF-8 when they are
        form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_BODY)
        fields: dict[str, str] = {}
        for name, value in form.multi_items():
            if not isinstance(value, str):
                raise HTTPException(400, "Only text fields can be sent here.")
            fields.setdefault(name, value)  # the first value of a repeated field wins, as browsers send it
        return fields
    if not kind and not await request.body():
        return {}
    raise HTTPException(415, "Send a form (application/x-www-form-urlencoded) or JSON.")


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, NOT_UTF8) from None


def _from_urlencoded(body: bytes) -> dict[str, str]:
    try:
        # errors="strict": a %-escape that is not UTF-8 is refused, not turned into U+FFFD.
        pairs = parse_qsl(_utf8(body), keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise HTTPException(400, NOT_UTF8) from None
    except ValueError:
        raise HTTPException(400, f"Too many fields; a form here has at most {MAX_FIELDS}.") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)  # the first value of a repeated field wins, as browsers send it
    return fields


def _from_json(body: bytes) -> dict[str, str]:
    try:
        data = json.loads(_utf8(body))
    except (ValueError, RecursionError):
        raise HTTPException(400, "The request body is not valid JSON.") from None
    if not isinstance(data, dict) or len(data) > MAX_FIELDS:
        raise HTTPException(400, 'Send one JSON object, such as {"email": "name@example.org"}.')
    if not all(isinstance(value, str) for value in data.values()):
        raise HTTPException(400, "Every JSON field must be a string.")
    if not all(_encodable(value) for value in data.values()):
        raise HTTPException(400, NOT_UTF8)  # a \ud800 escape: a lone surrogate is no character at all
    return data


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
