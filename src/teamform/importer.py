"""`teamform import`: a state file that describes what the services hold now.

Each provider's ``export(live)`` gives its section (members, seats...); the engine adds what every
service entry has (provider, sandbox, credentials as ``env:NAME`` references, connection settings
and policy the source file set explicitly), and the people directory: every email the exported
sections name, spelled as the source file or the service spells it, with the name the source file
gives. A service that cannot be read completely is an error: nothing is written from a partial read.

The result is merged into the state file it was made from (``import_merge``): its comments, order,
groups and other services stay as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from .config import Config, ServiceConfig
from .config.schema import EMAIL_RE, Person
from .emulator import Emulator
from .import_merge import merge_text
from .session import Session
from .model import State, norm_email
from .provider import Provider

class ImportFailed(Exception):
    pass


def env_name(service: str, credential: str) -> str:
    return re.sub(r"[^A-Z0-9_]", "_", f"{service}_{credential}".upper())


def has_export(cls: type[Provider]) -> bool:
    return getattr(cls, "export", None) is not getattr(Provider, "export")


def _common(svc: ServiceConfig) -> dict[str, Any]:
    """What the source file said about connecting to the service (never a secret: references only)."""
    entry = svc.entry
    out: dict[str, Any] = {"provider": svc.provider}
    if svc.sandbox:
        out["sandbox"] = True
    creds = dict(entry.credentials)
    for name in svc.provider_cls.credential_names:
        creds.setdefault(name, f"env:{env_name(svc.name, name)}")
    if creds:
        out["credentials"] = creds
    if "policy" in entry.model_fields_set:
        out["policy"] = entry.policy.model_dump(exclude_defaults=True, mode="json")
    for key in ("base_url", "limits", *svc.provider_cls.connection_settings):
        if key in entry.model_fields_set:
            value = getattr(entry, key)
            out[key] = value.model_dump(exclude_defaults=True, mode="json") if hasattr(value, "model_dump") else value
    return out


def _emails(value: Any) -> Iterable[str]:
    """Every email an exported section names, wherever it is."""
    if isinstance(value, str):
        if EMAIL_RE.match(value):
            yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _emails(k)
            yield from _emails(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _emails(v)


PERSON_FIELDS = ("name", "first_name", "last_name")


def _full_name(fields: Mapping[str, str]) -> str:
    return fields.get("name") or f"{fields.get('first_name', '')} {fields.get('last_name', '')}".strip()


def _split_name(fields: Mapping[str, str]) -> tuple[str, str]:
    """(first, last) as the people directory would give them to a provider."""
    return Person(**{k: v for k, v in fields.items() if k in PERSON_FIELDS}).names()


def live_names(providers: Mapping[str, Provider], states: Mapping[str, State]
               ) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """Names the services hold, by lower-cased email (each provider's ``export_people(live)``).
    The import describes live state, so these win over the names in the source file.

    Second: the people whose services disagree (service -> name). No one name can match both,
    so they get none, and each service keeps its own."""
    seen: dict[str, dict[str, dict[str, str]]] = {}
    for name, provider in providers.items():
        for email, fields in provider.export_people(states[name]).items():
            if fields:
                seen.setdefault(norm_email(email), {}).setdefault(name, {}).update(fields)
    out: dict[str, dict[str, str]] = {}
    conflicts: dict[str, dict[str, str]] = {}
    for email, by_service in seen.items():
        if len({_split_name(f) for f in by_service.values()}) > 1:
            conflicts[email] = {service: "{} / {}".format(*_split_name(f)) for service, f in by_service.items()}
            continue
        fields = out[email] = {}
        for part in by_service.values():
            fields.update(part)
        if "name" not in fields:
            fields["name"] = _full_name(fields)
    return out, conflicts


def _people(config: Config, sections: Mapping[str, dict[str, Any]], states: Mapping[str, State],
            names: Mapping[str, dict[str, str]], unnamed: Iterable[str]) -> dict[str, Any]:
    unnamed = set(unnamed)
    spelled: dict[str, str] = {}
    for state in states.values():
        for r in state:
            if r.person:
                spelled.setdefault(norm_email(r.person), r.person)
    people: dict[str, Any] = {}
    seen: set[str] = set()
    for email in _emails(list(sections.values())):
        low = norm_email(email)
        if low in seen:
            continue
        seen.add(low)
        spelling = config.directory.spelling.get(low) or spelled.get(low) or email
        person = config.directory.people.get(low)
        fields = person.model_dump(exclude_none=True, exclude_defaults=True) if person is not None else {}
        # the file's lifecycle dates describe a change to make, not what the services hold now
        fields = {k: v for k, v in fields.items() if k not in ("offboarded", "expires")}
        if low in unnamed:
            fields = {k: v for k, v in fields.items() if k not in PERSON_FIELDS}
        fields = {**fields, **names.get(low, {})}
        people[spelling] = {f: fields[f] for f in PERSON_FIELDS if f in fields}  # one key order for everyone
    return dict(sorted(people.items(), key=lambda kv: norm_email(kv[0])))


async def read_live(config: Config, services: Sequence[str] | None,
                    emulators: Mapping[str, Emulator] | None = None) -> tuple[dict[str, Provider], dict[str, State]]:
    async with Session(config, services, emulators=emulators) as session:
        live = await session.fetch()
    failed = {name: s for name, s in live.items() if isinstance(s, BaseException)}
    if failed:
        raise ImportFailed("; ".join(f"{n}: could not read live state ({e}); nothing was written"
                                     for n, e in failed.items()))
    return session.providers, live  # type: ignore[return-value]


@dataclass
class Imported:
    """What live state says: the people directory, each service's exported sections, what every
    service entry has (provider, credentials...: ``common``), and the people whose services
    disagree on their name (email -> service -> name; they get none)."""

    people: dict[str, dict[str, str]]
    sections: dict[str, dict[str, Any]]
    common: dict[str, dict[str, Any]]
    conflicts: dict[str, dict[str, str]]

    def document(self) -> dict[str, Any]:
        return {"version": 1, "people": self.people,
                "services": {n: {**self.common[n], **s} for n, s in self.sections.items()}}


def build(config: Config, providers: Mapping[str, Provider], states: Mapping[str, State]) -> Imported:
    missing = [n for n, p in providers.items() if not has_export(type(p))]
    if missing:
        raise ImportFailed(", ".join(f"provider {providers[n].name} (service {n}) cannot export live state"
                                     for n in missing))
    sections = {name: provider.export(states[name]) for name, provider in providers.items()}
    common = {name: _common(config.services[name]) for name in providers}
    names, conflicts = live_names(providers, states)
    whole = {name: {**common[name], **sections[name]} for name in sections}  # policy.protect names people too
    people = _people(config, whole, states, names, conflicts)
    return Imported(people, sections, common, conflicts)


def merged_text(config: Config, imported: Imported) -> str:
    """The state file ``config`` was loaded from, with ``imported`` merged into it."""
    return merge_text(config.doc.text, imported.people, imported.sections, imported.common,
                      imported.conflicts, config.directory)


async def import_text(config: Config, services: Sequence[str] | None = None, *,
                      emulators: Mapping[str, Emulator] | None = None) -> str:
    """The state file that describes what the services hold now (``emulators``: serve these
    services from these emulators, as in tests)."""
    providers, states = await read_live(config, services, emulators)
    return merged_text(config, build(config, providers, states))


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: the file may be the one imported from."""
    import os
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".teamform-import-", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        if os.path.exists(path):
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
