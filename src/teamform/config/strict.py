"""``Strict``: the base of every model of the state file. It refuses unknown keys and says which
are allowed, keeps a grant's ``expires:`` beside the entry, and holds a large roster's entries
compactly."""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError


class Strict(BaseModel):
    """A model that refuses unknown keys and says which keys are allowed (and the likely one).

    Every entry with a ``who:`` (a grant: a membership, an application user) also takes
    ``expires: DATE``, whatever the provider: the engine keeps it aside (``grant_expires``), the
    provider never sees it, and ``config.lifecycle`` checks the date with its location.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema) if "$ref" in schema else schema
        if "who" in target.get("properties", {}) and "expires" not in target["properties"]:
            target["properties"]["expires"] = {**DATE_SCHEMA,
                                               "description": "the grant ends after this date (YYYY-MM-DD)"}
        return schema

    @model_validator(mode="wrap")
    @classmethod
    def _grant_expiry(cls, data: Any, handler: Any) -> Any:
        # one wrap validator (it runs for every entry of a roster): the usual entry has only
        # keys the model knows and is handed on at once. It checks unknown keys too, but keeps
        # its old name: a union of models names it in error paths users already see.
        if not isinstance(data, dict):
            return handler(data)
        if _keys(cls)[1].issuperset(data):
            return _shared_fields_set(handler(data))
        if type(data) is dict and "expires" in data and _takes_grant(cls):
            # kept beside the fields, not one of them (no private attribute: every Strict model
            # would pay to set one up); model_dump and the providers never see it
            model = cls._unknown_keys({k: v for k, v in data.items() if k != "expires"}, handler)
            object.__setattr__(model, GRANT_EXPIRES, parse_date(data["expires"]))
            return _shared_fields_set(model)
        return _shared_fields_set(cls._unknown_keys(data, handler))

    def __setattr__(self, name: str, value: Any) -> None:
        # the fields set may be shared (_shared_fields_set) and pydantic adds the name to it: the
        # entry gets one of its own first (a copy, model_copy, gets its own from pydantic)
        _own_fields_set(self)
        super().__setattr__(name, value)

    @classmethod
    def _unknown_keys(cls, data: dict, handler: Any) -> Any:
        # Unknown keys are reported together with every error in the keys that are known (and
        # below them), so one run shows them all: raising at the first unknown key hid the rest.
        allowed, known = _keys(cls)
        unknown = [k for k in data if k not in known]
        if not unknown:
            return handler(data)
        errors, meant = [], set()
        for key in unknown:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            meant.update(close)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            errors.append(InitErrorDetails(type=PydanticCustomError(
                "unknown_key", "unknown key '{key}'{hint}; allowed: {allowed}",
                {"key": key, "hint": hint, "allowed": ", ".join(allowed)}), loc=(), input=data[key]))
        try:
            handler({k: v for k, v in data.items() if k not in unknown})
        except ValidationError as exc:
            # a key reported as misspelt is not reported missing as well
            errors += [_again(e) for e in exc.errors()
                       if not (e["type"] == "missing" and len(e["loc"]) == 1 and e["loc"][0] in meant)]
        raise ValidationError.from_exception_data(cls.__name__, errors)


def _again(error: Any) -> InitErrorDetails:
    """A reported error, to be raised again with others (its type and context kept)."""
    ctx = {k: v if isinstance(v, (str, int, float, bool)) else str(v) for k, v in (error.get("ctx") or {}).items()}
    return InitErrorDetails(type=PydanticCustomError(error["type"], error["msg"].replace("{", "{{"), ctx),
                            loc=tuple(error["loc"]), input=error.get("input"))


#: each distinct fields set once: a roster's entries are given the same few sets of keys, and a
#: set of its own per entry was nearly half of each validated entry's memory (216 of 480 bytes).
#: A set, not a frozenset: pydantic's serializer takes only a set (``exclude_unset``).
_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


def _shared_fields_set(model: Any) -> Any:
    fields = model.__pydantic_fields_set__
    object.__setattr__(model, "__pydantic_fields_set__", _FIELDS_SETS.setdefault(frozenset(fields), fields))
    return model


def _own_fields_set(model: Any) -> Any:
    fields = model.__pydantic_fields_set__
    if _FIELDS_SETS.get(frozenset(fields)) is fields:
        object.__setattr__(model, "__pydantic_fields_set__", set(fields))
    return model


_GRANT_MODELS: dict[type, bool] = {}


def _takes_grant(cls: type[BaseModel]) -> bool:
    """Is ``cls`` a ``who:`` entry without an ``expires`` of its own (once per class)?"""
    if cls not in _GRANT_MODELS:
        fields = cls.model_fields
        _GRANT_MODELS[cls] = "who" in fields and "expires" not in fields
    return _GRANT_MODELS[cls]


#: a date in the JSON Schema: no "type", since a YAML 1.1 reader (PyYAML) gives a date, not a string
DATE_SCHEMA = {"format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


def parse_date(value: Any) -> dt.date | None:
    """A YAML date (``2025-06-30`` is read as a date) or its text; ``None`` when it is not one
    (``config.lifecycle`` reports that with its location)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


GRANT_EXPIRES = "_grant_expires"


def grant_expires(entry: Any) -> dt.date | None:
    """The ``expires:`` of a ``who:`` entry, if it has one."""
    return getattr(entry, "__dict__", {}).get(GRANT_EXPIRES)


_KEYS: dict[type, tuple[list[str], frozenset[Any]]] = {}


def _keys(cls: type[BaseModel]) -> tuple[list[str], frozenset[Any]]:
    """A model's keys as the file spells them, and every name it accepts (once per class: this
    runs for every entry of a large roster)."""
    if cls not in _KEYS:
        allowed = [f.alias or name for name, f in cls.model_fields.items()]
        _KEYS[cls] = (allowed, frozenset(allowed) | frozenset(cls.model_fields))
    return _KEYS[cls]
