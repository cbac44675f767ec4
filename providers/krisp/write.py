"""Writing Krisp: an Operation -> API calls; and ``KrispError``, what a refusal means.

Seats are resized by adding seats of a type, or deleting unassigned ones; a member is invited
(in bulk where several share a seat type and role), changed in place (role, nickname), or
unassigned. An unassign that finds the seat already empty or gone is declared on the provider
(``gone_codes``), not caught here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import httpx

from teamform.provider import Operation, ProviderError, json_body

from . import api
from .read import MEMBER, SEATS, all_seats, by_email

if TYPE_CHECKING:  # pragma: no cover
    from . import KrispProvider


class KrispError(ProviderError):
    @classmethod
    def from_response(cls, response: httpx.Response) -> "KrispError":
        """The envelope's ``error_code`` in our words, with Krisp's own ``message``/``situation``."""
        body = json_body(response)
        code = body.get("error_code")
        known = api.ERRORS.get(code or "")
        said = [s for s in (body.get("message"), body.get("situation")) if isinstance(s, str) and s]
        text = known[1] if known else (said.pop(0) if said else f"HTTP {response.status_code}")
        if said:
            text = f"{text} (Krisp: {' / '.join(dict.fromkeys(said))})"
        return cls.from_http(response, f"Krisp {code or response.status_code}: {text}", code=code)


async def apply(p: "KrispProvider", op: Operation) -> None:
    if op.kind == SEATS:
        await resize(p, op)
    elif op.action == "create":
        await invite(p, [op])
    elif op.action == "update":
        body = {k: op.after.attrs[k] for k in ("role", "nickname")
                if op.after.attrs.get(k) != op.before.attrs.get(k)}
        await p.call("PATCH", api.SEAT.format(id=op.before.id), json=body)
    elif op.action == "delete":
        await p.call("POST", api.SEAT_UNASSIGN.format(id=op.before.id))


async def resize(p: "KrispProvider", op: Operation) -> None:
    """Add the missing seats of a type in one call, or delete as many unassigned ones."""
    type_ = op.key
    delta = op.after.attrs["count"] - op.before.attrs["count"]
    if delta > 0:
        await p.call("POST", api.SEATS, json={"type": type_, "quantity": delta})
        return
    free = [s for s in await all_seats(p) if s["type"] == type_ and s["user"] is None]
    for s in free[:-delta]:
        await p.call("DELETE", api.SEAT.format(id=s["id"]))


def batch_key(op: Operation) -> str | None:
    if op.kind == MEMBER and op.action == "create":
        return f"invite:{op.after.attrs['seat']}:{op.after.attrs['role']}"
    return None


async def apply_batch(p: "KrispProvider", ops: Sequence[Operation]) -> list[BaseException | None]:
    try:
        await invite(p, ops)
    except ProviderError as exc:
        return [exc] * len(ops)
    return [None] * len(ops)


async def invite(p: "KrispProvider", ops: Sequence[Operation]) -> None:
    """One bulk invitation for members of one seat type and role, then their nicknames (the
    invitation cannot carry one)."""
    first = ops[0].after.attrs
    data = await p.call("POST", api.INVITE, json={
        "emails": [op.after.person or op.key for op in ops], "type": first["seat"], "role": first["role"]})
    seats = by_email(data.get("seats") or [])
    named = [op for op in ops if op.after.attrs.get("nickname")]
    if any(op.key not in seats for op in named):  # skipped as already a member: a retried invite
        seats.update(by_email(await all_seats(p)))
    for op in named:
        seat = seats.get(op.key)
        if seat is not None and seat.get("nickname") != op.after.attrs["nickname"]:
            await p.call("PATCH", api.SEAT.format(id=seat["id"]), json={"nickname": op.after.attrs["nickname"]})
