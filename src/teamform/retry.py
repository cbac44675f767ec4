"""One retry policy for the whole engine: the HTTP layer and the applier both ask it how long to
wait, so a service's ``limits`` (attempts, backoff, max wait) and the cap on Retry-After hold
the same way everywhere."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Awaitable, Callable

import httpx


class GaveUp(httpx.TransportError):
    """Retries were used up, or the service asked us to wait longer than we may."""


@dataclass
class RetryPolicy:
    attempts: int = 5          # retries after the first try
    backoff: float = 0.5       # first wait
    max_wait: float = 60.0     # longest single wait, Retry-After included
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def wait(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first retry): exponential
        backoff with jitter, at least what the service asked for. A service that asks for more
        than ``max_wait`` makes us give up rather than hold a run for an hour."""
        hint = retry_after or 0.0
        if hint > self.max_wait:
            raise GaveUp(f"the service asked to wait {hint:.0f}s, longer than limits.max_wait "
                         f"({self.max_wait:.0f}s)")
        base = min(self.max_wait, self.backoff * (2 ** (attempt - 1)))
        return max(hint, min(self.max_wait, base + random.uniform(0, self.backoff)))

    @classmethod
    def from_limits(cls, limits, sleep: Callable[[float], Awaitable[None]] | None = None) -> "RetryPolicy":
        """The policy a service's ``limits:`` section asks for."""
        return cls(limits.retries, limits.backoff, limits.max_wait, sleep or asyncio.sleep)
