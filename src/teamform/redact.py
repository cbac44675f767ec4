"""Credential values never leave teamform: whatever a service echoes back (a key in an error
message), every output (plan text, markdown, JSON, apply results, the journal) is masked."""

from __future__ import annotations

from typing import Any, Iterable


class Redactor:
    """Replaces every secret value in texts (and in the strings inside dicts and lists) with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # longest first, so that a secret containing a shorter one is masked whole, not in part
        self.secrets = sorted({s for s in secrets if isinstance(s, str) and len(s) >= 4}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, "***")
        return value

    def __call__(self, value: Any) -> Any:
        if not self.secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value
