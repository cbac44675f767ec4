"""The public provider contract, pinned: what a provider package may import from teamform, and the
one layout every provider in this repository has. Adding a name to the contract is a decision;
removing one breaks third-party providers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import teamform.provider as contract
from teamform.provider import installed

PROVIDERS = Path(__file__).resolve().parent.parent / "providers"

CONTRACT = {
    "Provider", "Context", "HeaderAuth", "emulator_export",
    "ProviderSettings", "Strict", "Who", "PersonRef", "Email", "BaseURL", "Limits", "Policy", "Offboarding",
    "Directory",
    "Resource", "Ref", "State", "KindSpec", "Guard", "norm_email",
    "Operation", "Finding", "error", "warning", "note",
    "ProviderError", "IncompleteRead", "Outcome", "json_body", "parse_retry_after",
    "Paging", "Page", "NumberedPages", "OffsetPages", "Unpaged", "dig",
    "installed", "BROKEN", "ENTRY_POINT_GROUP",
}
#: what a provider package may import from teamform: the contract, and the emulator base for its emulator
ALLOWED_MODULES = {"teamform.provider", "teamform.emulator"}
LAYOUT = {"__init__.py", "settings.py", "read.py", "write.py", "api.py", "emulator", "README.md"}


def test_the_contract_is_exactly_this():
    assert set(contract.__all__) == CONTRACT
    assert all(hasattr(contract, name) for name in contract.__all__)


def _teamform_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "teamform":
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "teamform"}
    return found


def test_providers_import_only_the_contract():
    offending = {}
    for path in PROVIDERS.rglob("*.py"):
        bad = _teamform_imports(path) - ALLOWED_MODULES
        if bad:
            offending[str(path.relative_to(PROVIDERS))] = sorted(bad)
    assert offending == {}


def test_every_provider_has_the_one_layout():
    for folder in sorted(p for p in PROVIDERS.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        names = {p.name for p in folder.iterdir()}
        assert LAYOUT <= names, f"{folder.name} lacks {sorted(LAYOUT - names)}"
        assert (folder / "emulator" / "__init__.py").exists(), f"{folder.name}/emulator is not a package"


def test_providers_are_plain_subclasses_without_mixins():
    for name, cls in installed().items():
        assert cls.__bases__ == (contract.Provider,), f"{name}: {cls.__bases__}"


def test_a_provider_says_who_it_acts_as_through_one_hook():
    """``acting_identity(live)`` is the hook the engine's lockout guard reads; a provider that only
    sets the ``identity`` fact (as before the hook) keeps its guard."""
    from teamform.provider import State

    live = State()
    assert contract.Provider.acting_identity(None, live) is None  # type: ignore[arg-type]
    live.facts["identity"] = "ops@example.com"
    assert contract.Provider.acting_identity(None, live) == "ops@example.com"  # type: ignore[arg-type]


def test_a_kind_declares_its_suspended_state_once_consistently():
    """Staged offboarding sets ``suspend``; the lockout guard ranks ``status_rank``: where a kind
    declares both, the suspended value must be the lowest status, or the guard would miss it."""
    from teamform.model import KindSpec

    KindSpec("user", "a user", suspend=("active", False), status_attr="active", status_rank=(False, True))
    for bad in ({"status_attr": "state", "status_rank": (False, True)},
                {"status_attr": "active", "status_rank": (True, False)}):
        with pytest.raises(ValueError, match="is not the lowest of status"):
            KindSpec("user", "a user", suspend=("active", False), **bad)


def test_a_provider_names_its_emulator_and_only_the_sandbox_and_tests_import_it():
    """A plan against the real service never imports an emulator (Starlette and the emulators'
    modules): ``emulator`` is an import path, ``emulator_class`` imports it when first asked for."""
    import subprocess
    import sys

    code = ("import sys; from teamform.provider import installed; classes = installed(); "
            "print(sorted(m for m in sys.modules if m.split('.')[-1] == 'emulator' or m.startswith('starlette'))); "
            "print(sorted(c.emulator_class.__module__ for c in classes.values()))")
    before, after = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                   check=True).stdout.splitlines()
    assert before == "[]"
    assert after == str(sorted(f"teamform_{name}.emulator" for name in installed()))
    for name, cls in installed().items():
        assert cls.emulator == f"{cls.emulator_class.__module__}:{cls.emulator_class.__name__}", name


def test_a_provider_package_hands_out_its_emulator_by_name_only_when_asked():
    import subprocess
    import sys

    code = ("import sys, teamform_krisp; print('teamform_krisp.emulator' in sys.modules); "
            "from teamform_krisp import KrispEmulator; print(KrispEmulator.__module__)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.split() == ["False", "teamform_krisp.emulator"]
    with pytest.raises(AttributeError, match="no attribute 'KrispEmulatr'"):
        import teamform_krisp
        teamform_krisp.KrispEmulatr  # noqa: B018


def test_a_provider_may_still_set_its_emulator_class_itself():
    from teamform.emulator import Emulator

    class Own(Emulator):
        pass

    class Named(contract.Provider):
        emulator = "teamform.emulator:Emulator"

    class Given(contract.Provider):
        emulator_class = Own

    assert contract.Provider.emulator_class is None
    assert Named.emulator_class is Emulator and Given.emulator_class is Own
