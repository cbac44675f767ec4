"""Plan-time checks: what the generic planner cannot know about Debrief (application users must
be team users; team admins and owners are on every application) and one ordering rule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

from teamform.provider import Finding, Operation, Ref, State, error, note, warning

from . import api
from .read import APP_USER, APPLICATION, TEAM_USER, email_of

if TYPE_CHECKING:  # pragma: no cover
    from . import DebriefProvider


def check(p: "DebriefProvider", desired: State, live: State) -> list[Finding]:
    where = f"services.{p.ctx.instance}.applications"
    issues = []
    for res in desired.of_kind(APP_USER):
        if Ref(TEAM_USER, email_of(res)) not in desired:
            issues.append(error(f"{where}: {res.person} is on application '{res.display.rsplit('/', 1)[0]}' but "
                                f"not in services.{p.ctx.instance}.members; Debrief adds only team users to "
                                f"applications: add them to members", res.person))
    for res in desired.of_kind(APPLICATION):
        if Ref(APPLICATION, res.key) not in live and not res.attrs["description"]:
            issues.append(error(f"{where}: application '{res.display}' is new and has no description; Debrief "
                                f"requires a name, a description and an icon to create one: add a description"))
    by_person: dict[str, list[str]] = {}
    for email, app in p.skipped:
        by_person.setdefault(email, []).append(app)
    for email, apps in by_person.items():
        issues.append(warning(
            f"{where}: {email} is a team admin or owner; Debrief gives them every application and does "
            f"not list them as application users, so their entries ({', '.join(apps)}) are not planned. "
            f"Remove the entries, or make them a developer on the team", email))
    promoted: dict[str, list[str]] = {}
    for res in live.of_kind(APP_USER):
        wanted = desired.get(Ref(TEAM_USER, email_of(res)))
        if res.ref not in desired and wanted is not None and wanted.attrs.get("role") in api.SEES_EVERY_APP:
            promoted.setdefault(res.person or email_of(res), []).append(res.display.rsplit("/", 1)[0])
    for person, apps in promoted.items():
        issues.append(note(f"{where}: {person} becomes a team admin or owner and will see every application; "
                           f"Debrief does not list admins on applications, so their roles on {', '.join(apps)} "
                           f"are removed first", person))
    issues += [warning(message) for message in live.facts.get("warnings", [])]
    leaving = sorted(email for email in live.facts.get("tokenless", []) if Ref(TEAM_USER, email) not in desired)
    if leaving:
        issues.append(warning(
            f"Debrief's user list shows no invitation token for {', '.join(leaving)} (the document does not "
            f"show the field): their invitations cannot be cancelled by token, so they are removed from the "
            f"team instead (DELETE /team/:team_id/user/:user_id)"))
    if p.settings.applications is None and live.of_kind(APPLICATION):
        issues.append(note(f"{where} is not in the file: the team's applications and their users are left "
                           "as they are"))
    return issues


def edges(ops: Sequence[Operation]) -> Iterable[tuple[str, str]]:
    """A role change on the team comes before application changes for that person: a new
    developer is added to applications after the demotion, and leaves them before a promotion."""
    role_changes = {op.key: op for op in ops if op.kind == TEAM_USER and op.action == "update"
                    and op.before.attrs.get("role") != op.after.attrs.get("role")}
    for op in ops:
        change = role_changes.get(email_of(op.resource)) if op.kind == APP_USER else None
        if change is not None and op.action == "create":
            yield change.id, op.id
        elif change is not None and op.action == "delete":
            yield op.id, change.id
