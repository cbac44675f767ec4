"""What the emulator accepts in a request: the key, the ``user_access[...]`` form and its values.
A ``Refusal`` is the answer when it does not."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request

from teamform.emulator import MUTATING, form_or_json

from .. import api

EMAIL_SHAPE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class Refusal(Exception):
    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        self.status, self.message, self.field = status, message, field


def authorize(keys: dict[str, str], request: Request) -> None:
    """``Authorization: Basic <raw key>``; a read-only key cannot write."""
    header = request.headers.get("authorization")
    if not header:
        raise Refusal(401, "missing Authorization header")
    scheme, _, key = header.partition(" ")
    access = keys.get(key.strip()) if scheme == api.AUTH_SCHEME else None
    if access is None:
        raise Refusal(401, "invalid API key")
    if request.method in MUTATING and access != api.READ_WRITE:
        raise Refusal(403, "this API key is read-only")


async def fields(request: Request) -> dict[str, Any]:
    """The ``user_access[...]`` fields of a form body (or a JSON ``user_access`` object)."""
    body = await form_or_json(request)
    nested = body.get(api.FORM_ROOT)
    out = dict(nested) if isinstance(nested, dict) else {}
    for key, value in body.items():
        if key.startswith(api.FORM_ROOT + "[") and key.endswith("]"):
            out[key[len(api.FORM_ROOT) + 1:-1]] = value
    return out


def email(value: Any) -> str:
    text = str(value).strip()
    if not re.match(EMAIL_SHAPE, text):
        raise Refusal(422, "is not a valid email address", "email")
    return text


def privilege(value: Any) -> str:
    if value not in api.PRIVILEGES:
        raise Refusal(422, f"must be one of {', '.join(sorted(api.PRIVILEGES))}", "privilege")
    return value


def boolean(value: Any, name: str) -> bool:
    """Rails' spellings: true/false, 1/0, t/f, on/off, yes/no."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in api.TRUE_WORDS or word in api.FALSE_WORDS:
        return word in api.TRUE_WORDS
    raise Refusal(422, "must be true or false", name)
