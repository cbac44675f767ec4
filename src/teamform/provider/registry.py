"""How the engine finds providers: the ``teamform.providers`` entry-point group. The engine never
imports a provider by name, so a third party adds one by installing a package."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .base import Provider

ENTRY_POINT_GROUP = "teamform.providers"

#: providers whose entry point failed to load, with the reason (shown by `teamform providers`)
BROKEN: dict[str, str] = {}


def installed() -> dict[str, type["Provider"]]:
    """Every provider installed in this environment, by name. A plugin that fails to import is
    left out and recorded in ``BROKEN``, so one broken package cannot break every service."""
    found: dict[str, type[Provider]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
        except Exception as exc:  # noqa: BLE001 - any import-time failure of a third-party plugin
            BROKEN[ep.name] = f"{exc.__class__.__name__}: {exc}"
            continue
        found[getattr(cls, "name", "") or ep.name] = cls
    return dict(sorted(found.items()))
