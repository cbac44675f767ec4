"""Load and validate the state file; build the JSON Schema of the whole file."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, Union

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, create_model

from ..gcpause import collector_paused
from ..members import listing_problems
from ..model import norm_email
from ..provider.base import Provider
from ..provider.registry import BROKEN, installed
from .lifecycle import directory_lifecycle, grant_date_problems, offboarded, reference_notes
from .loader import ConfigError, Document, Problem, load_file, load_text
from .schema import ENV_REF_RE, Directory, EnvRef, Head, Person, Policy, ServiceCommon

__all__ = ["Config", "ConfigError", "ServiceConfig", "load", "load_path", "service_model", "service_name_problem",
           "resolve_credentials", "json_schema", "Problem"]


@dataclass
class ServiceConfig:
    name: str
    provider_cls: type[Provider]
    entry: Any  # the validated service model: provider settings + common keys

    @property
    def provider(self) -> str:
        return self.provider_cls.name

    @property
    def sandbox(self) -> bool:
        return bool(self.entry.sandbox)

    @property
    def policy(self) -> Policy:
        return self.entry.policy


@dataclass
class Config:
    doc: Document
    directory: Directory
    services: dict[str, ServiceConfig] = field(default_factory=dict)
    #: what validate says without refusing the file (an offboarded person still named somewhere)
    notes: list[Problem] = field(default_factory=list)

    @property
    def file(self) -> str:
        return self.doc.file

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.doc.text.encode()).hexdigest()


_MODELS: dict[type[Provider], type[BaseModel]] = {}


def service_model(cls: type[Provider]) -> type[BaseModel]:
    """The model of one service entry of provider ``cls``: its Settings plus the common keys."""
    if cls not in _MODELS:
        policy_model = cls.Policy or Policy
        _MODELS[cls] = create_model(
            f"{cls.__name__}Service",
            __base__=cls.Settings,
            __doc__=cls.summary,
            provider=(Literal[cls.name], Field(description=f"'{cls.name}': {cls.summary}")),
            sandbox=(bool, Field(False, description="talk to the built-in emulator instead of the real API")),
            credentials=(dict[str, EnvRef], Field(default_factory=dict,
                         description="names: " + ", ".join(cls.credential_names))),
            policy=(policy_model, Field(default_factory=policy_model)),
        )
    return _MODELS[cls]


def load_path(path: str | Path, providers: Mapping[str, type[Provider]] | None = None) -> Config:
    with collector_paused(set_aside=True):
        return _build(load_file(path), providers)


def load(text: str, file: str = "<string>", providers: Mapping[str, type[Provider]] | None = None) -> Config:
    with collector_paused(set_aside=True):
        return _build(load_text(text, file), providers)


def _pydantic_problems(doc: Document, exc: ValidationError, prefix: tuple = ()) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = prefix + tuple(p for p in err["loc"] if p not in ("[key]", "[email]", "[entry]"))
        message = err["msg"]
        key = False
        if err["type"] == "unknown_key":
            loc = loc + (err["ctx"]["key"],)
            key = True
        elif err["type"] == "missing":
            message = f"required key '{loc[-1]}' is missing"
            loc, key = loc[:-1], False
        elif err["type"] == "literal_error":
            message = f"{err['input']!r} is not allowed; expected {err['ctx']['expected']}"
        elif message.startswith("Value error, "):
            message = message[len("Value error, "):]
        out.append(doc.problem(loc, message, key=key))
    return out


def _build(doc: Document, providers: Mapping[str, type[Provider]] | None) -> Config:
    providers = installed() if providers is None else providers
    if not isinstance(doc.data, dict):
        raise ConfigError([doc.problem((), "the state file must be a mapping with version, people, groups, services")])
    problems: list[Problem] = []
    try:
        head = Head.model_validate(doc.data)
    except ValidationError as exc:
        problems += _pydantic_problems(doc, exc)
        head = _valid_head(doc.data)  # and go on: the services' errors are reported in the same run
    directory = Directory()
    for email, person in head.people.items():
        low = norm_email(email)
        low = email if low == email else low  # one string, not a lower-cased copy of each address
        if low in directory.people:
            problems.append(doc.problem(("people", email), f"duplicate person: '{email}' is already listed as "
                                        f"'{directory.spelling[low]}' (emails compare case-insensitively)", key=True))
            continue
        directory.people[low] = person or Person()
        directory.spelling[low] = email
    problems += directory_lifecycle(doc, head, directory)
    doc.forget(("people",))  # read into the directory: not held while every service is validated

    context = {"directory": directory}
    try:
        Head.model_validate({"version": head.version, "groups": doc.data.get("groups") or {}}, context=context)
    except ValidationError as exc:
        problems += _pydantic_problems(doc, exc)
    looped = False
    for name in directory.groups:
        try:
            directory.expand(f"group:{name}")
        except ValueError as exc:
            problems.append(doc.problem(("groups", name), str(exc), key=True))
            looped = True

    config = Config(doc, directory)
    marked = offboarded(directory)
    notes = reference_notes(doc, marked, ("groups",))
    services = head.services  # each service's raw entries, dropped once its models are built
    for name in list(services):
        problems += _build_service(doc, config, name, services[name], providers, context, expandable=not looped)
        problems += grant_date_problems(doc, name, directory)
        notes += reference_notes(doc, marked, ("services", name))
        services[name] = None
        doc.forget(("services", name))
    if problems:
        raise ConfigError(_in_file_order(problems))
    config.notes = notes
    doc.release()
    return config


def _valid_head(data: dict) -> Head:
    """The parts of the head that are valid (each person that is, groups as lists of strings,
    services as they are), so the rest of the file is checked even when the head has errors."""
    people: dict[str, Any] = {}
    for email, person in (data.get("people") if isinstance(data.get("people"), dict) else {}).items():
        for entry in (person, None):  # a person whose fields are wrong is still in people
            try:
                people.update(Head.model_validate({"version": 1, "people": {email: entry}}).people)
                break
            except ValidationError:
                pass
    groups = data.get("groups") if isinstance(data.get("groups"), dict) else {}
    services = data.get("services") if isinstance(data.get("services"), dict) else {}
    return Head.model_construct(version=1, people=people, services=services,
                                groups={str(n): [w for w in m if isinstance(w, str)]
                                        for n, m in groups.items() if isinstance(m, list)})


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """Each problem once (a group is checked twice: alone, then against people), top to bottom."""
    seen: dict[tuple, Problem] = {}
    for p in problems:
        seen.setdefault((p.line, p.column, p.path, p.message), p)
    return sorted(seen.values(), key=lambda p: (p.line is None, p.line or 0, p.column or 0))


SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def service_name_problem(name: Any) -> str | None:
    """Why a service name is refused: it names files (the sandbox's state, the lock), so it is a
    plain word, never a path."""
    if isinstance(name, str) and SERVICE_NAME.match(name) and ".." not in name:
        return None
    return (f"service name {str(name)[:80]!r} is not allowed: use letters, digits, '.', '-' and '_' "
            "(at most 63, starting with a letter or digit, no '..')")


def _build_service(doc, config, name, raw, providers, context, *, expandable: bool = True) -> list[Problem]:
    """One service entry's problems; ``expandable``: every group expands (none contains itself),
    so the checks that look at whom each entry names can run."""
    path = ("services", name)
    if not isinstance(raw, dict):
        return [doc.problem(path, "a service must be a mapping with provider: and its settings")]
    bad_name = service_name_problem(name)
    if bad_name:
        return [doc.problem(path, bad_name, key=True)]
    kind = raw.get("provider")
    if not isinstance(kind, str) or kind not in providers:
        allowed = ", ".join(providers) or "none installed"
        what = f"unknown provider '{kind}'" if kind else "required key 'provider' is missing"
        close = difflib.get_close_matches(kind, list(providers), n=1) if isinstance(kind, str) else []
        if close:
            what += f" (did you mean '{close[0]}'?)"
        if kind is not None and not isinstance(kind, str):
            what = f"provider must be a name, not a {type(kind).__name__}"
        if isinstance(kind, str) and kind in BROKEN:
            what = f"provider '{kind}' is installed but failed to load ({BROKEN[kind]})"
        return [doc.problem(path + (("provider",) if kind else ()), f"{what}; installed providers: {allowed}")]
    cls = providers[kind]
    try:
        entry = service_model(cls).model_validate(raw, context=context)
    except ValidationError as exc:
        # the credentials are checked too, from the file as written: every error in one run
        try:
            sandbox: bool | None = TypeAdapter(bool).validate_python(raw.get("sandbox", False))
        except ValidationError:
            sandbox = None  # reported above; whether credentials are needed is not known
        return _pydantic_problems(doc, exc, path) + _credential_problems(doc, path, cls, raw, sandbox)
    problems = []
    if expandable:
        problems += [doc.problem(where, message) for where, message in listing_problems(entry, config.directory, path)]
        problems += [doc.problem(path + where, message)
                     for where, message in cls.file_problems(entry, config.directory)]
    problems += _credential_problems(doc, path, cls, raw, entry.sandbox)
    config.services[name] = ServiceConfig(name, cls, entry)
    return problems


def _credential_problems(doc: Document, path: tuple, cls: type[Provider], raw: dict,
                         sandbox: bool | None) -> list[Problem]:
    """Credentials the provider does not take, and those it needs outside the sandbox."""
    given = raw.get("credentials") if isinstance(raw.get("credentials"), dict) else {}
    problems = [doc.problem(path + ("credentials", cred), f"unknown credential '{cred}'; "
                            f"{cls.name} takes: {', '.join(cls.credential_names)}", key=True)
                for cred in given if cred not in cls.credential_names]
    if sandbox is False:
        problems += [doc.problem(path + ("credentials",), f"credential '{cred}' is missing: give it as env:NAME")
                     for cred in cls.credential_names if cred not in given]
    return problems


def resolve_credentials(config: Config, service: ServiceConfig,
                        environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Read ``env:NAME`` references now. In sandbox mode the emulator's own sandbox credentials
    are used and the environment is not read, so no real secret is ever sent to an emulator
    and the example works on a fresh machine."""
    environ = os.environ if environ is None else environ
    if service.sandbox:
        return dict(getattr(service.provider_cls.emulator_class, "sandbox_credentials", {}))
    out: dict[str, str] = {}
    problems = []
    for cred in service.provider_cls.credential_names:
        ref = service.entry.credentials.get(cred)
        var = ENV_REF_RE.match(ref).group(1) if ref else None
        if var and environ.get(var):
            out[cred] = environ[var]
        else:
            problems.append(config.doc.problem(
                ("services", service.name, "credentials", cred),
                f"environment variable {var} is not set (it holds the {cred} for {service.name})"))
    if problems:
        raise ConfigError(problems)
    return out


def json_schema(providers: Mapping[str, type[Provider]] | None = None) -> dict[str, Any]:
    """JSON Schema (draft 7, as yaml-language-server reads it) of the whole state file."""
    providers = installed() if providers is None else providers
    models = [service_model(cls) for cls in providers.values()]
    if models:
        entry: Any = Annotated[Union[tuple(models)], Field(discriminator="provider")] if len(models) > 1 else models[0]
    else:
        entry = ServiceCommon
    root = create_model("TeamformStateFile", __base__=Head,
                        services=(dict[str, entry], Field(default_factory=dict)))
    schema = root.model_json_schema(by_alias=True, mode="validation")
    return _to_draft7(schema)


def _to_draft7(schema: dict[str, Any]) -> dict[str, Any]:
    import json

    text = json.dumps(schema).replace('"#/$defs/', '"#/definitions/')
    out = json.loads(text)
    if "$defs" in out:
        out["definitions"] = out.pop("$defs")
    out = {"$schema": "http://json-schema.org/draft-07/schema#",
           "title": "teamform state file", **{k: v for k, v in out.items() if k != "title"}}
    return out
