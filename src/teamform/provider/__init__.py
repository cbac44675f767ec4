"""The public provider contract: everything a provider package imports from teamform.

A provider imports from here and nowhere else in teamform, so the engine can move its insides
without breaking a plugin. ``tests/test_provider_contract.py`` pins this list: adding a name is a
decision, removing one is a breaking change.
"""

from ..config.schema import (BaseURL, Directory, Email, Limits, Offboarding, PersonRef, Policy, ProviderSettings,
                             Strict, Who)
from ..errors import IncompleteRead, Outcome, ProviderError, json_body, parse_retry_after
from ..findings import Finding, error, note, warning
from ..model import Guard, KindSpec, Ref, Resource, State, norm_email
from ..paging import NumberedPages, OffsetPages, Page, Paging, Unpaged, dig
from ..plan.ops import Operation
from .base import Context, HeaderAuth, Provider, emulator_export
from .registry import BROKEN, ENTRY_POINT_GROUP, installed

__all__ = [
    # the base class and what the engine hands it
    "Provider", "Context", "HeaderAuth", "emulator_export",
    # the state file: building blocks of a provider's section
    "ProviderSettings", "Strict", "Who", "PersonRef", "Email", "BaseURL", "Limits", "Policy", "Offboarding",
    "Directory",
    # the generic resource model
    "Resource", "Ref", "State", "KindSpec", "Guard", "norm_email",
    # planning and applying
    "Operation", "Finding", "error", "warning", "note",
    # errors and outcomes
    "ProviderError", "IncompleteRead", "Outcome", "json_body", "parse_retry_after",
    # paging
    "Paging", "Page", "NumberedPages", "OffsetPages", "Unpaged", "dig",
    # discovery
    "installed", "BROKEN", "ENTRY_POINT_GROUP",
]
