"""The generic form both sides are normalized into.

A provider turns its slice of the state file (desired) and its API's answers (live) into
``Resource`` objects. The planner only ever sees resources: it matches them by ``(kind, key)``,
compares ``attrs``, and derives ordering from ``refs`` and the provider's ``KindSpec``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Iterator, Mapping, NamedTuple

import orjson


def norm_email(email: str) -> str:
    """Emails compare case-insensitively everywhere."""
    return email.strip().lower()


class Ref(NamedTuple):
    """A reference to another resource of the same service: ``(kind, key)``. A named tuple, so
    hashing and comparing it (the planner's dictionaries do so millions of times at 100,000
    people) run in C."""

    kind: str
    key: str

    def __str__(self) -> str:
        return f"{self.kind}[{self.key}]"


class _NoMeta(Mapping[str, Any]):
    """The ``meta`` of a resource with no private data: empty, read-only, and one for all of them
    (a plan at 100,000 people holds over a million resources; an empty dict each was ~80 MB).
    A provider that has private data passes a dict of its own."""

    __slots__ = ()

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "{}"

    def __copy__(self) -> "_NoMeta":
        return self

    def __deepcopy__(self, memo: dict) -> "_NoMeta":
        return self

    def __reduce__(self) -> str:
        return "NO_META"


NO_META: Mapping[str, Any] = _NoMeta()


def _no_meta() -> Mapping[str, Any]:
    return NO_META


@dataclass(slots=True)
class Resource:
    """One thing a service holds (slotted: a plan at 100,000 people holds several hundred
    thousand of them).

    - ``kind``/``key``: identity; ``key`` is a natural key (lower-cased email, a name, ``app/email``).
    - ``attrs``: what is compared between desired and live. Only put attributes the state file
      can express here; anything else is ``meta``.
    - ``refs``: resources this one needs to exist (a membership needs its team and its user).
    - ``person``: the email of the person this resource is about, if any (policies use it).
    - ``display``: the service's own spelling, for output.
    - ``id``: the service's identifier (live only), used by the provider to execute.
    - ``pending``: an invitation not yet accepted; still counts as present.
    - ``meta``: provider-private data carried from fetch to execute (never compared); without
      any, the shared read-only ``NO_META``: to add some, give the resource a dict of its own.
    - ``invited_at``: when a pending invitation was sent (ISO 8601), where the service says it
      (live only, never compared): the engine's invitation upkeep ages it.
    """

    kind: str
    key: str
    attrs: dict[str, Any] = field(default_factory=dict)
    refs: tuple[Ref, ...] = ()
    person: str | None = None
    display: str | None = None
    id: Any = None
    pending: bool = False
    meta: Mapping[str, Any] = field(default_factory=_no_meta)
    invited_at: str | None = None
    #: ``(kind, key)``, made once when the resource is (the planner asks for it many times per
    #: resource): kind and key are the resource's identity and are never reassigned; a resource
    #: of another identity is a new ``Resource``
    ref: Ref = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.ref = _ref(Ref, (self.kind, self.key))

    @property
    def label(self) -> str:
        return f"{self.kind}[{self.display or self.key}]"

    def to_dict(self) -> dict[str, Any]:
        """As a plan file holds it: what is at its default (no refs, no id, not pending, no
        private data) is left out, and ``from_dict`` reads it back the same (a plan at 100,000
        people holds hundreds of thousands of these)."""
        out: dict[str, Any] = {"kind": self.kind, "key": self.key, "attrs": self.attrs}
        if self.refs:
            out["refs"] = [[r.kind, r.key] for r in self.refs]
        for name in ("person", "display", "id"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.pending:
            out["pending"] = True
        if self.meta:
            out["meta"] = self.meta
        if self.invited_at is not None:
            out["invited_at"] = self.invited_at
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Resource":
        return cls(
            kind=data["kind"],
            key=data["key"],
            attrs=dict(data.get("attrs") or {}),
            refs=tuple(Ref(k, v) for k, v in data.get("refs") or ()),
            person=data.get("person"),
            display=data.get("display"),
            id=data.get("id"),
            pending=bool(data.get("pending")),
            meta=dict(data["meta"]) if data.get("meta") else NO_META,
            invited_at=data.get("invited_at"),
        )

    def fingerprint(self) -> str:
        """What a saved plan remembers of this live resource to detect a change since."""
        return digest(_fingerprinted(self))


def _fingerprinted(r: Resource) -> dict[str, Any]:
    """What a resource's fingerprint is the digest of."""
    refs = r.refs
    return {"attrs": r.attrs, "refs": sorted(map(list, refs)) if refs else [], "pending": r.pending, "id": r.id}


#: ``Ref(kind, key)`` without the named tuple's Python-level ``__new__`` (made for every resource)
_ref = tuple.__new__
_DIGEST_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def digest(obj: Any) -> str:
    """A short, stable hash of JSON-able data (orjson: a plan fingerprints every live resource)."""
    try:
        blob = orjson.dumps(obj, option=_DIGEST_OPTIONS, default=str)
    except (TypeError, orjson.JSONEncodeError):  # past 64-bit integers and the like
        blob = json.dumps(obj, sort_keys=True, default=str, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


class DuplicateResource(ValueError):
    pass


class State:
    """A set of resources of one service, indexed by ``(kind, key)``."""

    def __init__(self, resources: Iterable[Resource] = ()) -> None:
        self._by_ref: dict[Ref, Resource] = {}
        self._by_kind: dict[str, list[Resource]] = {}  # providers ask per kind, often
        #: facts about the service that are not resources (seat capacity, the acting identity...)
        self.facts: dict[str, Any] = {}
        for r in resources:
            self.add(r)

    def add(self, resource: Resource) -> Resource:
        ref = resource.ref
        by_ref = self._by_ref
        if ref in by_ref:
            raise DuplicateResource(f"{resource.label} twice")
        by_ref[ref] = resource
        kind = self._by_kind.get(ref.kind)
        if kind is None:
            kind = self._by_kind[ref.kind] = []
        kind.append(resource)
        return resource

    def changed(self, put: Iterable[Resource] = (), drop: Iterable[Ref] = ()) -> "State":
        """A new state (this one is not changed): without ``drop``, then with each of ``put`` in
        place of the resource of its reference, or after the rest where there is none; the same
        facts. (The planner's policies change a few resources of hundreds of thousands: the
        index is copied whole, not added to one resource at a time.)"""
        by_ref = dict(self._by_ref)
        for ref in drop:
            by_ref.pop(ref, None)
        for res in put:
            by_ref[res.ref] = res
        out = State()
        out.facts.update(self.facts)
        out._by_ref = by_ref
        by_kind = out._by_kind
        for res in by_ref.values():
            kind = by_kind.get(res.kind)
            if kind is None:
                kind = by_kind[res.kind] = []
            kind.append(res)
        return out

    def get(self, ref: Ref) -> Resource | None:
        return self._by_ref.get(ref)

    @property
    def by_ref(self) -> Mapping[Ref, Resource]:
        """The resources by reference, read-only: a loop over every resource looks others up
        here (``get`` and ``in`` run in C, without a Python call each)."""
        return MappingProxyType(self._by_ref)

    def __contains__(self, ref: Ref) -> bool:
        return ref in self._by_ref

    def __iter__(self) -> Iterator[Resource]:
        return iter(self._by_ref.values())

    def __len__(self) -> int:
        return len(self._by_ref)

    def of_kind(self, kind: str) -> list[Resource]:
        return list(self._by_kind.get(kind, ()))

    def fingerprints(self) -> dict[str, str]:
        """Each resource's fingerprint by its reference, as a saved plan records them (what
        ``Resource.fingerprint`` and ``str(ref)`` make, in one loop: a plan at 100,000 people
        fingerprints over half a million live resources)."""
        return {f"{kind}[{key}]": digest(_fingerprinted(r)) for (kind, key), r in self._by_ref.items()}

    def fingerprint(self) -> str:
        return fingerprint_of(self.fingerprints())


def fingerprint_of(fingerprints: dict[str, str]) -> str:
    """The fingerprint of a whole state, from its resources' fingerprints."""
    return digest(sorted(fingerprints.items()))


@dataclass(frozen=True)
class Guard:
    """An invariant the service enforces: at least one resource of ``kind`` whose ``attr`` is in
    ``values`` must exist at every step, within each ``scope`` (the key of the resource that this
    ``scope_kind`` reference points to; ``None`` means the whole service).

    The planner orders gains before losses and refuses a plan that ends with none.
    Examples: Krisp's last Admin, a company's owner, a WorkDrive department's head.

    ``attr=None``: every resource of the kind holds (a membership of an admin group keeps the
    group non-empty); ``scopes``: only these scopes are guarded (the group named ``Admins``, not
    every group), ``None`` for all.
    """

    attr: str | None
    values: frozenset[Any]
    description: str
    scope_kind: str | None = None
    scopes: frozenset[str] | None = None


@dataclass(frozen=True)
class KindSpec:
    """What the planner needs to know about one kind of resource.

    - ``removable``: the planner may plan deletions of this kind (subject to ``authoritative``).
    - ``replace_on``: attributes the service cannot change in place; a change is a replace.
    - ``replace_warning``: said on the plan when a replace happens (e.g. loss of access).
    - ``destructive``: a deletion cannot be undone (revokes credentials, deletes data).
    - ``capacity_attr``: this kind is a pool with a capacity (e.g. seat count per seat type);
      resources whose refs point at it consume one unit each.
    - ``role_attr``/``role_rank``: which attribute is a role, ordered lowest first; a move down
      the list is a demotion (protected people are never demoted).
    - ``status_attr``/``status_rank``: which attribute says whether the person may sign in
      (active, suspended, archived), ordered lowest first: a move down is a suspension, refused
      for the identity teamform acts as and for protected people, as a demotion is.
    - ``resendable``: a pending invitation of this kind can be sent again (``Operation.resend``).
    - ``counts_as_member``: counts toward ``max_removals`` (people-like resources).
    - ``guards``: invariants kept at every step.
    - ``suspend``: ``(attr, value)`` that suspends this kind without removing it (WorkDrive's
      ``("status", "ARCHIVE")``, SCIM's ``("active", False)``): staged offboarding sets it first,
      and removes the resource later (``policy.offboarding``). ``None``: the service cannot.
    - ``renames_in_place``: the service can change the email of this kind in place: a resource
      known by a person's previous address is updated to the new one, keeping its id and data.
      Otherwise the pair is a replace, warned with ``rename_loss`` (what the person loses).
    """

    name: str
    description: str = ""
    removable: bool = True
    replace_on: frozenset[str] = frozenset()
    replace_warning: str | None = None
    destructive: bool = False
    capacity_attr: str | None = None
    role_attr: str | None = None
    role_rank: tuple[Any, ...] = ()
    counts_as_member: bool = True
    guards: tuple[Guard, ...] = ()
    suspend: tuple[str, Any] | None = None
    renames_in_place: bool = False
    rename_loss: str | None = None
    status_attr: str | None = None
    status_rank: tuple[Any, ...] = ()
    resendable: bool = False

    def __post_init__(self) -> None:
        # suspend (what offboarding sets) and status_rank (what the lockout guard ranks) describe
        # one attribute: a kind declaring both must agree that the suspended value ranks lowest
        if self.suspend and self.status_attr and (self.suspend[0] != self.status_attr or
                                                  self.status_rank[:1] != (self.suspend[1],)):
            raise ValueError(f"kind {self.name}: suspend {self.suspend!r} is not the lowest of status "
                             f"{self.status_attr!r} {self.status_rank!r}")

    def suspended(self, attrs: dict[str, Any]) -> bool:
        return self.suspend is not None and attrs.get(self.suspend[0]) == self.suspend[1]

    def rank(self, attrs: dict[str, Any]) -> int | None:
        if not self.role_attr or attrs.get(self.role_attr) not in self.role_rank:
            return None
        return self.role_rank.index(attrs[self.role_attr])

    def lowered(self, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
        """The ranked attributes (role, then status) that ``after`` moves down from ``before``."""
        out = []
        for attr, ranks in ((self.role_attr, self.role_rank), (self.status_attr, self.status_rank)):
            if attr and before.get(attr) in ranks and after.get(attr) in ranks and \
                    ranks.index(after[attr]) < ranks.index(before[attr]):
                out.append(attr)
        return out
