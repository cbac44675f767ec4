"""The provider conformance kit: one pytest base class that checks a provider against its
emulator (or any ASGI server of its API) the way the engine relies on it.

A provider package subclasses ``ProviderConformance`` in its tests, names its provider and fills
two hooks: random live states of the service (``live_states``, as its emulator's state) and
random sections of the state file (``sections``). The kit then checks, for that provider:

- random desired states against random live states converge in one apply, and plan empty after;
- ``teamform import`` of a random live state plans empty;
- with faults injected into a share of requests (429 with Retry-After, 5xx, timeouts, connection
  resets, answers lost after the change was made) it converges in at most three applies, and
  nothing changes that no plan showed, no value ends neither as it was nor as planned, and
  nothing reported done fails to hold on a read-back;
- a delete of something already gone counts as done;
- the identity teamform acts as (named by ``policy.identity``, which every provider honours) is
  never removed, replaced, demoted or suspended, whatever the file says;
- bad settings (``bad_sections``) give located errors;
- no credential value appears in any plan rendering, report, journal entry, request log or
  emulator log.

    from teamform.testing.conformance import ProviderConformance

    class TestMyProvider(ProviderConformance):
        provider = MyProvider
        def live_states(self): ...   # hypothesis strategy of emulator states
        def sections(self): ...      # hypothesis strategy of the provider's section (a dict)
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import re
from typing import Any, ClassVar, Mapping

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from .. import config as cfg
from .. import importer
from .. import journal as J
from ..apply import apply_plan
from ..emulator import Chaos, Emulator
from ..model import State, norm_email
from ..plan import Plan
from ..plan.ops import Operation
from ..provider import Provider
from ..render import render, render_report
from ..session import Session
from . import no_sleep

SERVICE = "svc"


class ProviderConformance:
    #: the provider under test
    provider: ClassVar[type[Provider]]
    #: the people random states draw from (the state file lists them all)
    people: ClassVar[tuple[str, ...]] = tuple(f"person{i}@example.com" for i in range(6))
    #: hypothesis examples per property (the on-demand runs in bench/ raise it)
    examples: ClassVar[int] = 8
    #: share of requests faulted in the fault test
    fault_rate: ClassVar[float] = 0.2

    # ---- hooks --------------------------------------------------------------------------
    def live_states(self) -> st.SearchStrategy[dict[str, Any]]:
        """Random states of the service, as its emulator's ``state``."""
        raise NotImplementedError

    def sections(self) -> st.SearchStrategy[dict[str, Any]]:
        """Random sections of the state file for this provider (without ``provider``/``sandbox``)."""
        raise NotImplementedError

    def bad_sections(self) -> list[tuple[dict[str, Any], str]]:
        """(section, path inside it that the error must name), e.g. ``({"members": [{"who": "x"}]},
        "members[0].who")``."""
        return []

    def import_source(self) -> dict[str, Any]:
        """The section ``teamform import`` reads its connection settings from."""
        return {}

    def person_entry(self, email: str) -> dict[str, Any]:
        """A person's entry in ``people``."""
        first = email.split("@")[0].capitalize()
        return {"name": f"{first} Example"}

    def emulator(self, state: dict[str, Any] | None) -> Emulator:
        assert self.provider.emulator_class is not None, "give the provider an emulator, or override emulator()"
        return self.provider.emulator_class(state)

    # ---- helpers ------------------------------------------------------------------------
    def file_text(self, section: Mapping[str, Any]) -> str:
        # the client-side rate limit waits in real time: lifted, unless the section sets one
        limits = {"requests_per_minute": 1_000_000, **(section.get("limits") or {})}
        doc = {"version": 1, "people": {e: self.person_entry(e) for e in self.people},
               "services": {SERVICE: {"provider": self.provider.name, "sandbox": True, **section,
                                      "limits": limits}}}
        return yaml.safe_dump(doc, sort_keys=False)

    def config(self, section: Mapping[str, Any]) -> cfg.Config:
        return cfg.load(self.file_text(section), "teams.yaml", {self.provider.name: self.provider})

    def session(self, config: cfg.Config, emulator: Emulator) -> Session:
        return Session(config, emulators={SERVICE: emulator}, sleep=no_sleep, environ={})

    async def plan(self, config: cfg.Config, emulator: Emulator) -> Plan:
        async with self.session(config, emulator) as s:
            plan, _ = await s.make_plan(allow_mass_removal=True)
            return plan

    async def live(self, config: cfg.Config, emulator: Emulator) -> State:
        async with self.session(config, emulator) as s:
            return await s.providers[SERVICE].fetch()

    def _settings(self, **kw: Any):
        return settings(max_examples=self.examples, deadline=None, derandomize=True, database=None,
                        suppress_health_check=list(HealthCheck), **kw)

    def _run(self, body, *strategies: st.SearchStrategy) -> None:
        @self._settings()
        @given(st.tuples(*strategies))
        def run(args: tuple) -> None:
            asyncio.run(body(*args))
        run()

    # ---- the checks ---------------------------------------------------------------------
    def test_random_states_converge_in_one_apply(self) -> None:
        async def body(live: dict, section: dict) -> None:
            emulator, config = self.emulator(live), self.config(section)
            async with self.session(config, emulator) as s:
                plan, _ = await s.make_plan(allow_mass_removal=True)
                assume(not plan.errors)
                report = await s.apply(plan)
            assert report.ok, [(r.op_id, r.message) for r in report.results if r.status != "done"]
            after = await self.plan(config, emulator)
            assert not after.errors, after.errors
            assert not after.operations, render(after, "text")
        self._run(body, self.live_states(), self.sections())

    def test_import_of_live_state_plans_empty(self) -> None:
        async def body(live: dict) -> None:
            emulator = self.emulator(live)
            source = self.config(self.import_source())
            text = await importer.import_text(source, emulators={SERVICE: emulator})
            imported = cfg.load(text, "imported.yaml", {self.provider.name: self.provider})
            plan = await self.plan(imported, emulator)
            assert not plan.errors, plan.errors
            assert not plan.operations, text + "\n" + render(plan, "text")
        self._run(body, self.live_states())

    async def chaos_scenario(self, live: dict, section: dict, seed: int, rate: float | None = None) -> "Scenario | None":
        """One fault scenario: up to three plan-and-apply rounds with faults on a share of requests,
        then a clean plan. ``None`` when the states make no feasible plan (nothing to test)."""
        emulator, config = self.emulator(live), self.config(section)
        first = await self.plan(config, emulator)
        if first.errors or not first.operations:
            return None
        before = await self.live(config, emulator)
        out = Scenario()
        shown: set[str] = set()
        removed: set[str] = set()
        emulator.chaos = Chaos(rate=self.fault_rate if rate is None else rate, seed=seed)
        for _ in range(3):
            async with self.session(config, emulator) as s:
                plan, _ = await s.make_plan(allow_mass_removal=True)
                out.refused += [f.message for sp in plan.services for f in sp.findings
                                if f.level == "error" and f.code != "failed_read"]
                shown |= {str(r.ref) for op in plan.operations for r in (op.before, op.after) if r is not None}
                removed |= {str(op.resource.ref) for op in plan.operations if op.action in ("delete", "replace")}
                report = await s.apply(plan)
            out.applies += 1
            emulator.chaos, chaos = None, emulator.chaos
            by_id = {op.id: op for op in plan.operations}
            done = [by_id[r.op_id] for r in report.results if r.status == "done" and r.op_id in by_id]
            out.false_done += await self._not_holding(config, emulator, done)
            out.wrong += _wrong_values(plan.operations, await self.live(config, emulator), {op.id for op in done})
            emulator.chaos = chaos
        out.faults = emulator.chaos.injected
        emulator.chaos = None
        after = await self.plan(config, emulator)
        out.left = [op.id for op in after.operations]
        # what a removal takes with it (a deleted team's memberships) was shown with it
        taken = {str(r.ref) for r in before if any(str(ref) in removed for ref in r.refs)}
        out.unplanned = sorted(_changed(before, await self.live(config, emulator)) - shown - taken)
        return out

    async def _not_holding(self, config: cfg.Config, emulator: Emulator, ops: list) -> list[str]:
        """Ids of operations reported done whose outcome the service does not show, as the
        provider's own read-back judges it (a removal may be a deactivation)."""
        async with self.session(config, emulator) as s:
            provider = s.providers[SERVICE]
            out = []
            for op in ops:
                try:
                    held = await provider.verify(Operation.derive(op, "create") if op.action == "replace" else op)
                except Exception:  # noqa: BLE001 - a read-back that cannot tell is not a verdict
                    continue
                if not held:
                    out.append(op.id)
            return out

    def test_faults_converge_within_three_applies_and_write_only_what_was_planned(self) -> None:
        async def body(live: dict, section: dict, seed: int) -> None:
            out = await self.chaos_scenario(live, section, seed)
            assume(out is not None)
            assert not out.refused, out.refused  # faults may stop a read, never change the verdict
            assert not out.left, f"did not converge in three applies: {out.left}"
            assert not out.unplanned, f"changed without being planned: {out.unplanned}"
            assert not out.false_done, f"reported done, but the service does not hold it: {out.false_done}"
            assert not out.wrong, f"neither as it was nor as planned: {out.wrong}"
        self._run(body, self.live_states(), self.sections(), st.integers(0, 2**16))

    def test_delete_of_something_already_gone_is_done(self) -> None:
        async def body(live: dict, section: dict) -> None:
            emulator, config = self.emulator(live), self.config(section)
            async with self.session(config, emulator) as s:
                plan, _ = await s.make_plan(allow_mass_removal=True)
                deletes = [op for op in plan.operations if op.action == "delete"]
                assume(not plan.errors and deletes)
                assert (await s.apply(plan)).ok
                again = Plan(services=[dataclasses.replace(plan.services[0], operations=[
                    dataclasses.replace(op, depends_on=[]) for op in deletes])])
                report = await apply_plan(again, s.providers)
            assert [r.status for r in report.results] == ["done"] * len(deletes), \
                [(r.op_id, r.message) for r in report.results]
        self._run(body, self.live_states(), self.sections())

    def test_the_acting_identity_is_never_removed_demoted_or_suspended(self) -> None:
        async def body(live: dict, section: dict, pick: int) -> None:
            emulator = self.emulator(live)
            state = await self.live(self.config(section), emulator)
            people = sorted({norm_email(r.person) for r in state if r.person} & set(self.people))
            assume(people)
            me = people[pick % len(people)]
            config = self.config({**section, "policy": {**(section.get("policy") or {}), "identity": me}})
            async with self.session(config, emulator) as s:
                plan, _ = await s.make_plan(allow_mass_removal=True)
                provider = s.providers[SERVICE]
            for op in plan.operations:
                if op.before is None or not op.before.person or norm_email(op.before.person) != me:
                    continue
                assert op.action not in ("delete", "replace"), f"{op.id} (acting as {me})"
                lowered = provider.kind(op.kind).lowered(op.before.attrs, op.after.attrs if op.after else {})
                assert not lowered, f"{op.id} lowers {lowered} (acting as {me})"
        self._run(body, self.live_states(), self.sections(), st.integers(0, 100))

    def test_bad_settings_give_located_errors(self) -> None:
        for section, where in self.bad_sections():
            with pytest.raises(cfg.ConfigError) as caught:
                self.config(section)
            text = str(caught.value)
            assert f"services.{SERVICE}.{where}" in text, text
            assert re.search(r"teams\.yaml:\d+:\d+", text), text

    def test_no_credential_value_in_any_output(self) -> None:
        async def body(live: dict, section: dict, seed: int) -> None:
            emulator, config = self.emulator(live), self.config(section)
            emulator.chaos = Chaos(rate=self.fault_rate, seed=seed)
            log = io.StringIO()
            handler = logging.StreamHandler(log)
            logger = logging.getLogger("teamform")
            old = logger.level
            logger.addHandler(handler)
            logger.setLevel(logging.DEBUG)
            try:
                async with self.session(config, emulator) as s:
                    plan, _ = await s.make_plan(allow_mass_removal=True)
                    report = await s.apply(Plan(services=[sp for sp in plan.services if not sp.errors]))
                    secrets = J.secret_values(s.providers.values())
            finally:
                logger.removeHandler(handler)
                logger.setLevel(old)
            outputs = [render(plan, fmt) for fmt in ("text", "markdown", "json")] + [
                render_report(report), json.dumps(J.entry(plan, report, secrets=secrets)), log.getvalue(),
                json.dumps([dataclasses.asdict(e) for e in emulator.log])]
            for secret in (s for s in secrets if len(s) >= 4):
                for text in outputs:
                    assert secret not in text
        self._run(body, self.live_states(), self.sections(), st.integers(0, 2**16))


@dataclasses.dataclass
class Scenario:
    """What one fault scenario did: applies run, faults injected, and what went wrong (empty lists
    when nothing did)."""

    applies: int = 0
    faults: int = 0
    refused: list[str] = dataclasses.field(default_factory=list)     # verdicts faults changed
    left: list[str] = dataclasses.field(default_factory=list)        # not converged after three applies
    unplanned: list[str] = dataclasses.field(default_factory=list)   # changed, though no plan showed it
    false_done: list[str] = dataclasses.field(default_factory=list)  # "done" that did not hold
    wrong: list[str] = dataclasses.field(default_factory=list)       # a value neither as it was nor as planned


def _changed(before: State, after: State) -> set[str]:
    """References of resources that appeared, went or changed between two live states."""
    then, now = before.fingerprints(), after.fingerprints()
    return {ref for ref in set(then) | set(now) if then.get(ref) != now.get(ref)}


def _wrong_values(ops: list[Operation], live: State, done: set[str] | None = None) -> list[str]:
    """After an apply: each attribute an operation changes holds the value it had, the one planned,
    or (an operation not reported done) a value on the way: a count between the two (a resize
    made in steps that stopped), or nothing yet (a create whose second step failed). Never a
    third value: a retried seat change that overshot, a user created otherwise than planned.
    Removals are left out: a removal may be a deactivation. ``done``: ids reported done (all,
    when not given)."""
    out = []
    for op in ops:
        if op.after is None:
            continue
        now = live.get(op.resource.ref)
        if now is None:
            continue  # not made (yet): the next plan shows it
        then = op.before.attrs if op.before is not None and op.action != "replace" else {}
        finished = done is None or op.id in done
        for name, want in op.after.attrs.items():
            was = then.get(name)
            if name in then and was == want:
                continue
            held = now.attrs.get(name)
            if held == want or (name in then and held == was):
                continue
            if not finished and (held is None or _between(held, was, want)):
                continue
            out.append(f"{op.id}: {name} is {held!r}, planned {want!r}" + (f" (was {was!r})" if name in then else ""))
    return out


def _between(value: Any, a: Any, b: Any) -> bool:
    numbers = [v for v in (value, a, b) if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return len(numbers) == 3 and min(a, b) <= value <= max(a, b)
