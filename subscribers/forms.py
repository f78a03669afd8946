"""Reading what a client posted: a form (urlencoded or multipart) or a JSON object, of short text fields."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.requests import Request

MAX_FIELDS = 8
# Enough for any real address with room to spare; a 10 KB "address" is still read and refused politely.
MAX_BODY = 16 * 1024

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def posted_json(request: Request) -> bool:
    """Whether the client posted JSON (and so wants JSON back)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


async def read_fields(request: Request) -> dict[str, str]:
    """The posted text fields; HTTPException 400/415 for anything else (files, nesting, bad JSON)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        return _from_json(await request.body())
    if kind in FORM_TYPES:
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


def _from_json(body: bytes) -> dict[str, str]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise HTTPException(400, "The request body is not valid JSON.") from None
    if not isinstance(data, dict) or len(data) > MAX_FIELDS:
        raise HTTPException(400, 'Send one JSON object, such as {"email": "name@example.org"}.')
    if not all(isinstance(value, str) for value in data.values()):
        raise HTTPException(400, "Every JSON field must be a string.")
    return data
