"""Plan-time SCIM rules: findings the generic planner cannot know (``check``), what an offboarding
really does (``annotate``), and what is wrong in the section alone (``file_problems``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from teamform.provider import Directory, Finding, Operation, Ref, State, error, note

from .read import USER
from .settings import offboarding_word

if TYPE_CHECKING:  # pragma: no cover
    from . import ScimProvider


def offboarding(p: "ScimProvider") -> str:
    return offboarding_word(p.ctx.policy)


def check(p: "ScimProvider", desired: State, live: State) -> list[Finding]:
    issues: list[Finding] = []
    users = desired.of_kind(USER)
    for user in users:
        manager = user.attrs.get("manager")
        have = live.get(user.ref)
        if manager == user.key and not (have and have.attrs.get("manager") == manager):
            issues.append(error(f"{user.label} cannot be their own manager", user.label))
        elif manager and not manager.startswith("id:") and Ref(USER, manager) not in desired:
            issues.append(error(f"{user.label}'s manager {manager} is not a user of this service in the file "
                                "(list them under users, or change manager)", user.label))
    caps = p.caps
    if caps is not None and caps.enterprise is False:
        using = sorted(u.key for u in users if u.attrs.get("department") or
                       (u.attrs.get("manager") and not str(u.attrs["manager"]).startswith("id:")))
        if using:
            issues.append(error("the service's User resource type does not list the enterprise extension, so "
                                f"department and manager cannot be set ({', '.join(using)})"))
    renamed = p.ctx.directory.previous  # a previous address is renamed in place, not offboarded
    leaving = [r.key for r in live.of_kind(USER) if r.ref not in desired and r.attrs.get("active") is not False
               and r.key not in renamed]
    if leaving and offboarding(p) == "deactivate":
        issues.append(note(f"offboarding: {len(leaving)} user(s) no longer in the file are deactivated "
                           f"(active: false) and kept, not deleted ({', '.join(sorted(leaving))}); "
                           "policy.offboarding: delete deletes them"))
    return issues


def annotate(p: "ScimProvider", op: Operation) -> None:
    """A user's removal is a deactivation (policy.offboarding: deactivate), or a deactivation then a
    deletion, which cannot be undone."""
    if op.kind != USER or op.action != "delete":
        return
    active = op.before.attrs.get("active") is not False
    if offboarding(p) == "deactivate":
        op.summary = "deactivated (active: false) and kept, not deleted (policy.offboarding: deactivate)"
    else:
        op.summary = "deactivated (active: false), then deleted" if active else "deleted (already deactivated)"
        op.destructive = True


def file_problems(section: Any, directory: Directory) -> Iterable[tuple[tuple, str]]:
    """Two groups whose names differ only in case are one group to a SCIM service (displayName is
    not case-exact, RFC 7643 §4.2)."""
    seen: dict[str, str] = {}
    for name in section.groups:
        if name.lower() in seen:
            yield ("groups", name), f"group '{name}' and group '{seen[name.lower()]}' differ only in case; " \
                                    "a SCIM service holds them as one group"
        seen.setdefault(name.lower(), name)
