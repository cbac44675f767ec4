"""Fixtures shared by every test folder."""

from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "teams.example.yaml"


@pytest.fixture
def example_text() -> str:
    """The README's example state file (every service, sandbox mode)."""
    return EXAMPLE.read_text()
