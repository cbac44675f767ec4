"""What a provider says went wrong, in words a user understands, and what the applier does
about it (``Outcome``)."""

from __future__ import annotations

import datetime as dt
import enum
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from .http import json_of


class ProviderError(Exception):
    """An error from a service, already translated into words a user understands.

    ``retryable``: trying again may work (rate limit, 5xx, timeout).
    ``already_done``: the service refused because the desired outcome already holds
    (an invitation that already exists): the applier counts it as done.
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 retryable: bool = False, already_done: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.retryable = retryable
        self.already_done = already_done
        self.retry_after = retry_after

    @classmethod
    def from_http(cls, response: httpx.Response, message: str, *, code: str | None = None,
                  already_done: bool = False, **extra: Any) -> "ProviderError":
        """An error for an HTTP answer: 429 and 5xx are retryable (not 501 Not Implemented, which
        asking again does not change), Retry-After is kept."""
        status = response.status_code
        header = response.headers.get("retry-after")
        return cls(message, status=status, code=code, retryable=status == 429 or (status >= 500 and status != 501),
                   already_done=already_done, retry_after=parse_retry_after(header) if header else None,
                   **extra)

    @classmethod
    def from_response(cls, response: httpx.Response) -> "ProviderError":
        """What an error answer means. Providers override this with their service's error shape;
        the default reads a ``message``, ``error`` or ``detail`` field."""
        body = json_body(response)
        said = next((body[k] for k in ("message", "error", "detail") if isinstance(body.get(k), str)), None)
        text = f"HTTP {response.status_code}" + (f": {said}" if said else "")
        return cls.from_http(response, text)


class IncompleteRead(ProviderError):
    """A read failed or stopped early; the plan for this service must be aborted."""


class Outcome(enum.Enum):
    RETRY = "retry"   # transient: verify by reading back, then try again
    DONE = "done"     # the service already holds the desired outcome
    FAIL = "fail"     # final


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or ``{}`` when there is none (some services drop error bodies).
    Decoded by orjson: a provider whose service says "failed" in a 200's body asks it of every answer."""
    try:
        body = json_of(response)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return 0.0
        return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())
