"""What the emulator accepts in a request: the key, the ``user_access`` form and its values.
A ``Refusal`` is the answer when it does not.

The document shows the create two ways: its example body is url-encoded ``user_access[email]``,
``user_access[privilege]``... fields, and its description says "a form-data body with a single
parameter user_access containing as a JSON object" the same attributes. Both are accepted, as
url-encoded or multipart form data. A JSON body ``{"user_access": {...}}`` is accepted too: the
document is silent on it, and a Rails service parses one into the same parameters (invented,
README.md).
"""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
import json
import re
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request

from teamform.emulator import MUTATING

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


async def _body(request: Request) -> dict[str, Any]:
    """The parameters of a url-encoded, multipart or JSON body; ``{}`` for anything else."""
    ctype = request.headers.get("content-type", "")
    raw = await request.body()
    if "application/x-www-form-urlencoded" in ctype:
        fields = parse_qs(raw.decode(errors="replace"), keep_blank_values=True)
        return {k: (v if len(v) > 1 else v[0]) for k, v in fields.items()}
    if "multipart/form-data" in ctype:
        message = BytesParser(policy=policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
        if not message.is_multipart():
            return {}
        return {part.get_param("name", header="content-disposition"): part.get_content()
                for part in message.iter_parts() if part.get_param("name", header="content-disposition")}
    if "application/json" in ctype:
        try:
            data = json.loads(raw or b"null")
        except ValueError:
            raise Refusal(400, "the body is not JSON") from None
        return data if isinstance(data, dict) else {}
    return {}


async def fields(request: Request) -> dict[str, Any]:
    """The ``user_access`` fields: ``user_access[name]`` form fields, or one ``user_access``
    parameter holding a JSON object (the document's description), or a JSON body's object."""
    body = await _body(request)
    nested = body.get(api.FORM_ROOT)
    if isinstance(nested, str):
        try:
            nested = json.loads(nested)
        except ValueError:
            raise Refusal(422, "must be a JSON object of the user's attributes", api.FORM_ROOT) from None
    if nested is not None and not isinstance(nested, dict):
        raise Refusal(422, "must be a JSON object of the user's attributes", api.FORM_ROOT)
    out = dict(nested or {})
    for key, value in body.items():
        if key.startswith(api.FORM_ROOT + "[") and key.endswith("]"):
            out[key[len(api.FORM_ROOT) + 1:-1]] = value
    return out


def required(given: dict[str, Any], name: str) -> Any:
    """A field the create must carry: the document lists four and gives none a default."""
    value = given.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Refusal(422, "can't be blank", name)
    return value


def email(value: Any) -> str:
    if not isinstance(value, str) or not re.match(EMAIL_SHAPE, value.strip()):
        raise Refusal(422, "is not a valid email address", "email")
    return value.strip()


def privilege(value: Any) -> str:
    if not isinstance(value, str) or value not in api.PRIVILEGES:
        raise Refusal(422, f"must be one of {', '.join(sorted(api.PRIVILEGES))}", "privilege")
    return value


def boolean(value: Any, name: str) -> bool:
    """``true`` or ``false``: the only values the document gives (a JSON body may send the
    booleans themselves)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in api.BOOLEANS:
        return api.BOOLEANS[value]
    raise Refusal(422, "must be true or false", name)
