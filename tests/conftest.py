"""Fixtures shared by every test folder."""

from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "teams.example.yaml"


@pytest.fixture
def example_text() -> str:
    """The README's example state file (every service, sandbox mode)."""
    return EXAMPLE.read_text()


@pytest.fixture(autouse=True)
def _apply_lock_dir(tmp_path_factory, monkeypatch):
    """Apply locks of this test run in its own folder: not the user's, not another run's."""
    monkeypatch.setenv("TEAMFORM_LOCK_DIR", str(tmp_path_factory.getbasetemp() / "apply-locks"))


@pytest.fixture(autouse=True)
def _no_colour_settings(monkeypatch):
    """Tests read plain text: a shell's NO_COLOR or FORCE_COLOR (honoured since the CLI follows
    them) must not colour what they read; the terminal tests set them where they test them."""
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """The test runs in its own empty folder (the state file, sandbox and journal go there)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
