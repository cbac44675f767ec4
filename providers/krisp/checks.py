"""Plan-time checks only Krisp knows: an invoice team cannot resize, a device team cannot invite;
and a warning when the team itself could not be read (``GET /team`` answered 404)."""

from __future__ import annotations

from teamform.provider import Finding, State, error, warning

from .read import MEMBER, SEATS


def check(desired: State, live: State) -> list[Finding]:
    issues = []
    if live.facts.get("team_unknown"):
        issues.append(warning(f"Krisp's {live.facts['team_unknown']} (the document has no team endpoint; see the "
                              "provider's README): whether this team pays by invoice or is a device team is "
                              "unknown, so seat changes and invitations were not checked against it before applying"))
    if live.facts.get("payment_type") == "invoice":
        for pool in desired.of_kind(SEATS):
            have = live.get(pool.ref)
            if have and pool.attrs["count"] != have.attrs["count"]:
                issues.append(error(f"{pool.label}: {have.attrs['count']} → {pool.attrs['count']} is not possible: "
                                    "this team pays by invoice, and Krisp only lets card-paying teams add or "
                                    "remove seats (change them with Krisp sales)", pool.label))
    if live.facts.get("team_type") == "device":
        # a new member is invited; so is one moved to another seat type (unassigned, then invited
        # again): on a device team that invitation is refused after the person has lost their seat
        invited = [r.label for r in desired.of_kind(MEMBER)
                   if (have := live.get(r.ref)) is None or have.attrs["seat"] != r.attrs["seat"]]
        if invited:
            issues.append(error("this API key belongs to a device team: Krisp does not let it invite members by "
                                f"email ({', '.join(invited)} would need an invitation)"))
    return issues
