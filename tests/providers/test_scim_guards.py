"""SCIM's lockout guard against scim2-server: where ``/Me`` names the token's user (RFC 7644
§3.11), that user is never deactivated, deleted or taken out of a group; where it answers 501
(scim2-server's default, and most services'), there is no acting identity and ``policy.identity``
names it instead."""

from __future__ import annotations

import sys
from pathlib import Path

from teamform.testing import make_plan, plan_apply
from teamform_scim import ScimEmulator

sys.path.insert(0, str(Path(__file__).parent))
from test_scim_protocol import config, ops, person  # noqa: E402  (shared builders)


def found(plan, code):
    return [f for sp in plan.services for f in sp.findings if f.code == code]


def emulator(me=None):
    state = {"Users": [person("alice"), person("bob")],
             "Groups": [{"id": "g-admins", "displayName": "admins", "members": [{"value": "u-alice"}]}]}
    if me:
        state["me"] = me
    return ScimEmulator(state, profile="full")


async def test_the_token_user_named_by_me_is_never_deactivated_or_taken_out_of_a_group():
    emu = emulator(me="alice@example.com")
    cfg = config(users=[{"who": "alice@example.com", "active": False}, {"who": "bob@example.com"}],
                 groups={"admins": ["bob@example.com"]})
    plan = await make_plan(cfg, {"svc": emu})
    assert ops(plan) == [("create", "member", "admins/bob@example.com")]
    subjects = {f.subject for f in found(plan, "lockout")}
    assert subjects == {"user[alice@example.com]", "member[alice@example.com in admins]"}
    await plan_apply(cfg, {"svc": emu})
    assert emu.user("alice@example.com")["active"] is True
    # left out of the file: kept active, not deactivated
    plan = await make_plan(config(users=[{"who": "bob@example.com"}]), {"svc": emu})
    assert not [op for op in plan.operations if "alice" in op.key]


async def test_without_me_the_same_file_deactivates_and_policy_identity_protects():
    emu = emulator()
    cfg = config(users=[{"who": "alice@example.com", "active": False}, {"who": "bob@example.com"}])
    plan = await make_plan(cfg, {"svc": emu})
    assert ("update", "user", "alice@example.com") in ops(plan) and not found(plan, "lockout")
    # 501 is an answer: asked once, not retried with backoff on every plan
    assert [e.status for e in emu.calls("GET", "/Me")] == [501]
    cfg = config(users=[{"who": "alice@example.com", "active": False}, {"who": "bob@example.com"}],
                 policy={"identity": "alice@example.com"})
    plan = await make_plan(cfg, {"svc": emu})
    assert ("update", "user", "alice@example.com") not in ops(plan) and found(plan, "lockout")
