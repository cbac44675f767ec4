"""Writing Krisp: an Operation -> API calls; and ``KrispError``, what a refusal means.

Seats are resized by adding seats of a type, or deleting unassigned ones; a member is invited
(in bulk where several share a seat type and role), changed in place (role, nickname), or
unassigned. An unassign that finds the seat already empty or gone is declared on the provider
(``gone_codes``), not caught here.

No write is repeated blind. A seat count is set from the pool Krisp holds when the write is made
(read first, then add or delete only the difference), never by repeating the plan's delta. An
unassign or a change tried a second time in a run looks the person's seat up again first: after a
lost answer their old seat may be empty, or hold someone just invited. A 2xx answer that is not
Krisp's envelope leaves the outcome unknown: a retryable ``KrispError`` whose ``unknown`` is set,
so the applier reads back (``verify``) before anything is tried again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import httpx

from teamform.provider import IncompleteRead, Operation, ProviderError, json_body

from . import api
from .read import MEMBER, SEATS, all_seats, by_email, checked

if TYPE_CHECKING:  # pragma: no cover
    from . import KrispProvider

#: body codes that say "try again later" whatever the HTTP status (rate limit, internal error)
TRANSIENT_CODES = frozenset({1026, 10000})
#: a resize stops deleting seats after this many failures in a row, and lets the applier decide
STOP_AFTER = 3


class KrispError(ProviderError):
    """A Krisp refusal in our words; ``unknown``: a 2xx Krisp answered in a shape we cannot read,
    so whether the write took effect is not known."""

    def __init__(self, message: str, *, unknown: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.unknown = unknown

    @classmethod
    def from_response(cls, response: httpx.Response) -> "KrispError":
        """The envelope's ``error_code`` in our words, with Krisp's own ``message``/``situation``."""
        body = json_body(response)
        code = body.get("error_code") if isinstance(body.get("error_code"), str) else None
        known = api.ERRORS.get(code or "")
        said = [s for s in (body.get("message"), body.get("situation")) if isinstance(s, str) and s]
        if known:
            text = known[1]
        elif said:
            text = said.pop(0)
        elif response.status_code < 400:
            text = f"HTTP {response.status_code} with body code {body.get('code')!r}, not 0"
        else:
            text = f"HTTP {response.status_code}"
        if said:
            text = f"{text} (Krisp: {' / '.join(dict.fromkeys(said))})"
        error = cls.from_http(response, f"Krisp {code or response.status_code}: {text}", code=code)
        if response.status_code < 400 and body.get("code") in TRANSIENT_CODES:
            error.retryable = True  # a 200 whose envelope says "rate limited" or "internal error"
        return error


def _shape(value: Any) -> str:
    return f"{type(value).__name__} {str(value)[:60]!r}" if value is not None else "no JSON"


async def write(p: "KrispProvider", method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """One write; its ``data``. An error answer raises ``KrispError``; a 2xx that is not the envelope
    around an object raises one with ``unknown`` set (retryable: the applier reads back first)."""
    response = await p.request(method, path, **kwargs)
    try:
        body = response.json()
    except ValueError:
        body = None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(data, (dict, type(None))):
        what = f"'data' as {_shape(data)}" if isinstance(body, dict) else _shape(body)
        raise KrispError(f"Krisp answered {method} {path} (HTTP {response.status_code}) with {what}, not its "
                         "envelope: whether it took effect is unknown", status=response.status_code,
                         retryable=True, unknown=True)
    return data or {}


async def current_seats(p: "KrispProvider") -> list[dict[str, Any]]:
    """Every seat as Krisp holds it now, read before a write that depends on it; a failed read is
    retryable (nothing was written)."""
    try:
        return await all_seats(p)
    except IncompleteRead as exc:
        raise KrispError(f"could not read the seats before writing: {exc}", status=exc.status,
                         retryable=True) from exc


def first_try(p: "KrispProvider", op: Operation) -> bool:
    """Is this the first time this run tries ``op``? (A retry, or the second apply of a plan.)"""
    if op.id in p.attempted:
        return False
    p.attempted.add(op.id)
    return True


async def seat_now(p: "KrispProvider", op: Operation) -> dict[str, Any] | None:
    """The seat ``op``'s person is on: the planned one the first time, else read again."""
    if first_try(p, op):
        return {"id": op.before.id}
    return by_email(await current_seats(p)).get(op.key)


async def apply(p: "KrispProvider", op: Operation) -> None:
    if op.kind == SEATS:
        await resize(p, op)
    elif op.action == "create":
        [error] = await invite(p, [op])
        if error is not None:
            raise error
    elif op.action == "update":
        seat = await seat_now(p, op)
        if seat is None:
            raise KrispError(f"{op.label} is no longer on a seat: the next plan invites them again")
        body = {k: op.after.attrs[k] for k in ("role", "nickname")
                if op.after.attrs.get(k) != op.before.attrs.get(k)}
        await write(p, "PATCH", api.SEAT.format(id=seat["id"]), json=body)
    elif op.action == "delete":
        seat = await seat_now(p, op)
        if seat is not None:  # None: the lost answer of the first try took them off already
            await write(p, "POST", api.SEAT_UNASSIGN.format(id=seat["id"]))


async def resize(p: "KrispProvider", op: Operation) -> None:
    """Set a seat type's count to the plan's, from what Krisp holds now: add the missing seats in
    one call, or delete as many unassigned ones as are too many. Repeating it is harmless."""
    type_, target = op.key, op.after.attrs["count"]
    seats = [s for s in await current_seats(p) if s["type"] == type_]
    if target > len(seats):
        await write(p, "POST", api.SEATS, json={"type": type_, "quantity": target - len(seats)})
        return
    excess = len(seats) - target
    free = [s for s in seats if s.get("user") is None]
    if excess > len(free):
        raise KrispError(f"{op.label}: {len(seats)} → {target} needs {excess} unassigned seats deleted, but only "
                         f"{len(free)} are unassigned (people joined since the plan?)")
    failed: list[BaseException] = []
    in_a_row = 0
    for s in free[:excess]:  # each delete names its seat: repeating one finds it gone, never another
        try:
            await write(p, "DELETE", api.SEAT.format(id=s["id"]))
            in_a_row = 0
        except ProviderError as exc:
            if exc.code == "SEAT_NOT_FOUND":
                continue  # gone already (a lost answer of an earlier try)
            if not exc.retryable and exc.code != "SEAT_IS_NOT_EMPTY":
                raise
            failed.append(exc)  # taken since the read, or unknown: the next try reads the pool again
            in_a_row += 1
        except httpx.HTTPError as exc:
            failed.append(exc)
            in_a_row += 1
        if in_a_row >= STOP_AFTER:
            break  # Krisp is not answering (or blocks us): stop instead of pressing on
    if failed:
        first = str(failed[0]) or type(failed[0]).__name__
        raise KrispError(f"{op.label}: {len(failed)} of {excess} seat deletions did not answer as done (first: "
                         f"{first}); the pool is read again before another try", retryable=True)


def batch_key(op: Operation) -> str | None:
    if op.kind == MEMBER and op.action == "create":
        return f"invite:{op.after.attrs['seat']}:{op.after.attrs['role']}"
    return None


async def apply_batch(p: "KrispProvider", ops: Sequence[Operation]) -> list[BaseException | None]:
    try:
        return await invite(p, ops)
    except (ProviderError, httpx.HTTPError) as exc:
        return [exc] * len(ops)


def _answered_seats(data: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """The invitation answer's seats by email, or ``None`` when they cannot be read."""
    seats = data.get("seats")
    if not isinstance(seats, list):
        return None
    try:
        return by_email(checked(s) for s in seats)
    except IncompleteRead:
        return None


async def invite(p: "KrispProvider", ops: Sequence[Operation]) -> list[BaseException | None]:
    """One bulk invitation for members of one seat type and role, then their nicknames (the
    invitation cannot carry one). One result per op: ``None`` when the person is on a seat of
    the wanted type and role with the wanted nickname."""
    first = ops[0].after.attrs
    try:
        data = await write(p, "POST", api.INVITE, json={
            "emails": [op.after.person or op.key for op in ops], "type": first["seat"], "role": first["role"]})
        seats = _answered_seats(data) or {}
    except KrispError as exc:
        if not exc.unknown:
            raise
        seats = {}  # the invitation went out (2xx) but its answer is unreadable: read back below
    if any(op.key not in seats for op in ops):
        # skipped as already a member (a repeat after a lost answer), or an answer without them
        seats = by_email(await current_seats(p))
    results: list[BaseException | None] = []
    for op in ops:
        results.append(await _settle(p, op, seats.get(op.key)))
    return results


async def _settle(p: "KrispProvider", op: Operation, seat: dict[str, Any] | None) -> BaseException | None:
    """After the invitation: is ``op``'s person where the plan wants them? Set the nickname if not."""
    want = op.after.attrs
    if seat is None:
        return KrispError(f"{op.label}: Krisp answered the invitation but does not show them on a seat",
                          retryable=True)
    if (seat["type"], seat["role"]) != (want["seat"], want["role"]):
        return KrispError(f"{op.label} is already on the team as {seat['role']} on a {seat['type']} seat "
                          "(added since the plan?): the next plan changes that")
    if want.get("nickname") and seat.get("nickname") != want["nickname"]:
        try:
            await write(p, "PATCH", api.SEAT.format(id=seat["id"]), json={"nickname": want["nickname"]})
        except (ProviderError, httpx.HTTPError) as exc:
            return exc
    return None
