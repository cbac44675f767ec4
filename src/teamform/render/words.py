"""One vocabulary for actions, in every output (text, markdown, the journal), in Terraform's words
where they fit: "will be created", "will be updated in place", "must be replaced", and the counts
"to add", "to change", "to replace". Terraform's "destroy" does not fit a roster (a person taken
off a team is not destroyed): teamform says "remove". The JSON plan and journal keep the action
names themselves (create, update, delete, replace), as Terraform's JSON plan does."""

from __future__ import annotations

import re
from typing import Any

from ..plan.ops import SYMBOL

#: "X will be …" in a plan
WILL = {"create": "will be created", "update": "will be updated in place", "delete": "will be removed",
        "replace": "must be replaced"}
#: what happened, once applied
DID = {"create": "created", "update": "updated in place", "delete": "removed", "replace": "replaced"}
#: the counts: "Plan: 1 to add, 2 to change, 0 to remove, 0 to replace."
COUNT = {"create": "add", "update": "change", "delete": "remove", "replace": "replace"}


def counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[a]} to {COUNT[a]}" for a in ("create", "update", "delete", "replace"))


def _natural(text: str) -> tuple[Any, ...]:
    """Case-insensitive, numbers by value: seat[2] before seat[10], as an address is read."""
    return tuple(int(p) if p.isdigit() else p.casefold() for p in re.split(r"(\d+)", text))


def address_order(op: Any) -> tuple[Any, ...]:
    """Where an operation is listed within its service: by address (kind, then key), as Terraform
    lists resources. Only the display sorts: a plan applies in dependency order."""
    return (op.kind, _natural(op.key), op.action)


__all__ = ["WILL", "DID", "COUNT", "SYMBOL", "counts_line", "address_order"]
