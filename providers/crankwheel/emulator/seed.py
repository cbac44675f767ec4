"""The emulator's records and the sandbox's first state (drift from teams.example.yaml)."""

from __future__ import annotations

from typing import Any

from .. import api


def user(email: str, privilege: str = "user", in_demo_pool: bool | None = False) -> dict[str, Any]:
    return {"email": email, "privilege": privilege, "in_demo_pool": in_demo_pool}


def session(agent: str, start: int, seconds: int) -> dict[str, Any]:
    return {"start_ts": start, "end_ts": start + seconds, "agent": agent, "duration": seconds,
            "shared": [{"at": start, "what": "screen"}], "viewers": {"count": 1, "locations": ["IS"]}}


#: the keys of a demo request's ``prospect_info``, as the document lists them: the fixed ones,
#: those lead enrichment fills, and the default lead-capture questions
PROSPECT_FIXED = ("prospect-phone", "prospect-request-origin", "prospect-utm-source", "prospect-utm-medium",
                  "prospect-utm-campaign", "prospect-utm-term", "prospect-utm-content")
PROSPECT_ENRICHED = ("prospect-location", "prospect-enrich-full-name", "prospect-enrich-country",
                     "prospect-enrich-state", "prospect-enrich-company", "prospect-enrich-title",
                     "prospect-enrich-seniority", "prospect-enrich-linkedin", "prospect-enrich-twitter",
                     "prospect-enrich-company-sector", "prospect-enrich-company-industry",
                     "prospect-enrich-company-employees", "prospect-enrich-company-description",
                     "prospect-enrich-company-linkedin", "prospect-enrich-company-twitter",
                     "prospect-enrich-company-marketcap")
PROSPECT_QUESTIONS = ("prospect-name", "prospect-email", "prospect-company", "prospect-job-title",
                      "prospect-website")


def demo_session(start: int, handled_by: str | None = None, *, respond: int = 20, seconds: int = 900,
                 bucket: str = "full_capacity", screenshared: bool = True,
                 accepted_from: str = "extension") -> dict[str, Any]:
    """One demo request with the fields the document lists; unhandled requests have no
    ``handled_by``, ``seconds_to_respond: "never"`` and ``n/a`` for what never happened."""
    handled = handled_by is not None
    record: dict[str, Any] = {
        "start_ts": start, "last_event_ts": start + (seconds if handled else 60),
        "availability_bucket": bucket, "seconds_to_respond": respond if handled else "never",
        "call_confirmed": True if handled else "n/a",
        "screenshared": screenshared if handled else "n/a",
        "accepted_from": accepted_from if handled else "n/a",
        "prospect_info": {key: "" for key in (*PROSPECT_FIXED, *PROSPECT_ENRICHED, *PROSPECT_QUESTIONS)},
    }
    record["prospect_info"].update({"prospect-phone": "+354 555 0100",
                                    "prospect-request-origin": "https://meeting.is/ss/showu/EXAMPLE",
                                    "prospect-email": "prospect@customer.example"})
    if handled:
        record["handled_by"] = handled_by
    return record


def sandbox() -> dict[str, Any]:
    """Live drift from teams.example.yaml: Alice (the owner) is spelled with other case, Bob
    is a plain user the file makes admin, Carol's in_demo_pool is null (the file says false:
    no change), Dave is in the demo pool the file takes him out of, Mallory has left, and Erin
    is not listed yet."""
    return {
        "keys": {"sandbox-key": api.READ_WRITE, "sandbox-readonly-key": api.READ_ONLY},
        "users": [
            user("Alice@Example.com", "owner", True),
            user("bob@example.com", "user", False),
            user("carol@example.com", "user", None),
            user("dave@example.com", "reporting", True),
            user("mallory@example.com", "admin", False),
        ],
        "onboarding_emails": [],
        "sessions": [session("alice@example.com", 1767603600, 1800),
                     session("bob@example.com", 1767607200, 600),
                     session("alice@example.com", 1767610800, 300)],
        "demo_sessions": [demo_session(1767604000, "dave@example.com"),
                          demo_session(1767608000, bucket="no_capacity")],
        "canceled_requests": [1767609000],
    }
