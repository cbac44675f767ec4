"""Invitation upkeep: invitations pending longer than ``policy.resend_invitations_after_days``.

Where the kind can be resent (``KindSpec.resendable``) each becomes a planned ``update`` with
``resend`` set ("sent the invitation again (pending 23 days)"); elsewhere one warning lists them
with their age. The age comes from ``Resource.invited_at``, which only some services give; a
service that gives none gets one note saying the policy cannot apply. ``today`` is passed in, so
the plan is the same on any machine on the same day, and tests choose the day.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Sequence

from ..findings import Finding, note, warning
from ..model import Resource, State
from .ops import Operation
from .policy import is_ignored

if TYPE_CHECKING:  # pragma: no cover
    from ..config.schema import Policy
    from ..provider import Provider


def sent_on(res: Resource) -> dt.date | None:
    """The day an invitation was sent, from ``invited_at`` (a date or an ISO 8601 date-time)."""
    if not res.invited_at:
        return None
    try:
        stamp = dt.datetime.fromisoformat(str(res.invited_at).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (stamp.astimezone(dt.timezone.utc) if stamp.tzinfo else stamp).date()


def upkeep(service: str, provider: "Provider", desired: State, live: State, policy: "Policy",
           ops: Sequence[Operation], today: dt.date | None) -> tuple[list[Operation], list[Finding]]:
    """Resend operations and findings for the invitations pending past the policy's days."""
    days = policy.resend_invitations_after_days
    if days is None or today is None:
        return [], []
    touched = {op.resource.ref for op in ops}
    resends: list[Operation] = []
    stale: list[tuple[int, Resource]] = []
    undated = 0
    for res in live:
        if not res.pending or res.ref not in desired or res.ref in touched or is_ignored(res, policy):
            continue  # an invitation the plan cancels, changes or leaves alone anyway
        sent = sent_on(res)
        if sent is None:
            undated += 1
            continue
        age = (today - sent).days
        if age < days:
            continue
        if provider.kind(res.kind).resendable:
            op = Operation(service, "update", res.kind, res.key, before=res, after=res, resend=True,
                           summary=f"sent the invitation again (pending {age} days)",
                           changes=[f"invitation sent {sent.isoformat()}: pending {age} days, over "
                                    f"resend_invitations_after_days {days}"])
            resends.append(op)
        else:
            stale.append((age, res))
    findings: list[Finding] = []
    if stale:
        listed = ", ".join(f"{r.label} ({age} days)" for age, r in sorted(stale, key=lambda x: (-x[0], x[1].key)))
        findings.append(warning(f"{len(stale)} invitation(s) pending over {days} days, which {provider.name} cannot "
                                f"send again: {listed}; remind them, or remove and re-add them to invite anew",
                                None, "invitation"))
    if undated:
        findings.append(note(f"{undated} pending invitation(s) not aged: {provider.name} does not say when an "
                             "invitation was sent, so resend_invitations_after_days cannot apply", None,
                             "invitation"))
    return resends, findings
