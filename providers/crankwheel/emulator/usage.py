"""``/usage`` and ``/demo_usage``: meetings in a time window, answered from a small fixed history
(not state: teamform never plans from them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from .forms import Refusal

if TYPE_CHECKING:  # pragma: no cover
    from teamform.emulator import Emulator


def _window(request: Request) -> tuple[int, int]:
    try:
        return int(request.query_params["from"]), int(request.query_params["to"])
    except (KeyError, ValueError):
        raise Refusal(400, "from= and to= must be timestamps (seconds since the epoch)") from None


async def usage(emu: "Emulator", request: Request) -> Any:
    start, end = _window(request)
    sessions = [s for s in emu.state["sessions"] if start <= s["start_ts"] < end]
    per_agent: dict[str, dict[str, int]] = {}
    for s in sessions:
        agent = per_agent.setdefault(s["agent"], {"meetings": 0, "seconds": 0})
        agent["meetings"] += 1
        agent["seconds"] += s["duration"]
    stats = {"meetings": len(sessions), "seconds": sum(s["duration"] for s in sessions),
             "per_agent": per_agent}
    return {"stats": stats, "sessions": sessions}


async def demo_usage(emu: "Emulator", request: Request) -> Any:
    """Demo requests in the window (``seed.demo_session`` has their documented fields) and how
    many were cancelled (``canceled_requests``: their timestamps)."""
    start, end = _window(request)
    sessions = [s for s in emu.state["demo_sessions"] if start <= s["start_ts"] < end]
    canceled = [t for t in emu.state.get("canceled_requests", []) if start <= t < end]
    return {"total_canceled_requests": len(canceled), "sessions": sessions}
