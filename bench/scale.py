"""How `teamform plan --out` scales: N people in five services, ~10 % drift, emulators served over
loopback from another process (rate limits lifted on both sides).

    .venv/bin/python bench/scale.py 1000 10000 [--python OTHER_VENV/bin/python] [--in-process]

For each N it generates a state file and each emulator's live state (from the emulator's own seed,
with its people replaced), starts one server process for all five emulators, then runs

- ``teamform plan --out`` as a subprocess: wall time, CPU and peak memory of the child
  (``resource.getrusage(RUSAGE_CHILDREN)``), the plan file's size;
- this file's ``_phases`` child, which makes the same calls as the CLI and times each phase
  (load, fetch, plan, render, exit);
- the requests the emulators received (``/_emulator/log``).

``--python`` runs the children with another interpreter (e.g. a venv with ``main`` installed),
so one run prints before and after. ``--in-process`` times the phases in this process against
in-process emulators (quick, no server).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

PROVIDERS = ("krisp", "crankwheel", "teamsapi", "debrief", "workdrive")
TEAM_SIZE = 50  # Teams API and WorkDrive department size
ENV = {"KRISP_API_KEY": "sandbox-key", "KRISP_SECRET": "sandbox-secret", "CRANKWHEEL_API_KEY": "sandbox-key",
       "TEAMSAPI_TOKEN": "sandbox-token", "DEBRIEF_USERNAME": "ops@example.com",
       "DEBRIEF_PASSWORD": "sandbox-password", "DEBRIEF_CLIENT_ID": "sandbox-client",
       "DEBRIEF_CLIENT_SECRET": "sandbox-secret", "WORKDRIVE_API_KEY": "sandbox-workdrive-key"}


# ---- generation ---------------------------------------------------------------------------
class _NoAliases(yaml.SafeDumper):
    """A state file as a person writes it: no anchors for the settings the services share."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(doc: dict[str, Any]) -> str:
    return yaml.dump(doc, Dumper=_NoAliases, sort_keys=False)


def email(i: int) -> str:
    return f"p{i}@example.com"


def drift(n: int) -> tuple[list[int], list[int], set[int], list[int]]:
    """(desired, live, changed, gone): 4 % only desired (created), 3 % changed, 3 % only live
    (removed: people who left)."""
    desired = list(range(n))
    missing = {i for i in desired if i % 25 == 7}
    changed = {i for i in desired if i % 33 == 5 and i not in missing}
    gone = list(range(n, n + max(1, n * 3 // 100)))
    live = [i for i in desired if i not in missing] + gone
    return desired, live, changed, gone


def state_file(n: int, ports: dict[str, int]) -> dict[str, Any]:
    desired, _, changed, _ = drift(n)
    people = {email(i): {"name": f"P{i} Person"} for i in desired}
    people["ops@example.com"] = {"name": "Teamform Ops"}
    limits = {"requests_per_minute": 1_000_000, "concurrency": 16}
    policy = {"authoritative": True, "max_removals": "100%"}

    def base(name: str, path: str = "") -> dict[str, Any]:
        return {"provider": name, "sandbox": False, "base_url": f"http://127.0.0.1:{ports[name]}{path}",
                "limits": limits}

    teams = {f"Team {t}": {"members": [{"who": email(0), "role": "Admin"}]
                           + [{"who": email(i), "role": "Member"} for i in desired[t * TEAM_SIZE: (t + 1) * TEAM_SIZE] if i]}
             for t in range((n + TEAM_SIZE - 1) // TEAM_SIZE)}
    depts = {f"Dept {t}": {"heads": [email(t * TEAM_SIZE)],
                           "members": [email(i) for i in desired[t * TEAM_SIZE + 1: (t + 1) * TEAM_SIZE]]}
             for t in range((n + TEAM_SIZE - 1) // TEAM_SIZE)}
    services = {
        "krisp": {**base("krisp"), "credentials": {"api_key": "env:KRISP_API_KEY", "secret": "env:KRISP_SECRET"},
                  "policy": policy, "seats": {"standard": n},
                  "members": [{"who": email(i), "role": "Admin" if i == 0 or i in changed else "User"}
                              for i in desired]},
        "crankwheel": {**base("crankwheel"), "credentials": {"api_key": "env:CRANKWHEEL_API_KEY"}, "policy": policy,
                       "members": [{"who": email(i), "privilege": "owner" if i == 0 else
                                    ("admin" if i in changed else "user"), "in_demo_pool": False}
                                   for i in desired]},
        "teamsapi": {**base("teamsapi"), "credentials": {"token": "env:TEAMSAPI_TOKEN"}, "policy": policy,
                     "teams": teams},
        "debrief": {**base("debrief"), "credentials": {k.lower(): f"env:DEBRIEF_{k}" for k in
                                                       ("USERNAME", "PASSWORD", "CLIENT_ID", "CLIENT_SECRET")},
                    "policy": policy, "applications": [],
                    "members": [{"who": "ops@example.com", "role": "owner"}]
                    + [{"who": email(i), "role": "admin" if i in changed else "developer"} for i in desired]},
        "workdrive": {**base("workdrive", "/api"), "credentials": {"api_key": "env:WORKDRIVE_API_KEY"},
                      "policy": {"max_removals": "100%"},
                      "users": [{"who": email(i), **({"designation": "Lead"} if i in changed else {})}
                                for i in desired],
                      "departments": depts},
    }
    return {"version": 1, "people": people, "services": services}


def live_states(n: int) -> dict[str, dict[str, Any]]:
    """Each emulator's state: its own seed (credentials, keys), its people replaced."""
    from teamform.provider.registry import installed

    desired, live, changed, _ = drift(n)
    live_desired = [i for i in live if i < n]
    out: dict[str, dict[str, Any]] = {}
    emulators = {name: installed()[name].emulator_class for name in PROVIDERS}

    from teamform_krisp.emulator.team import seat
    st = emulators["krisp"](rate_limit=None).state
    st["seats"] = [seat(k + 1, email=email(i), role="Admin" if i == 0 else "User") for k, i in enumerate(live)]
    st["next_id"] = len(live) + 1
    out["krisp"] = st

    from teamform_crankwheel.emulator.seed import user as cw_user
    st = emulators["crankwheel"](rate_limit=None).state
    st["users"] = [cw_user(email(i), "owner" if i == 0 else "user", False) for i in live]
    st["sessions"], st["demo_sessions"] = [], []
    out["crankwheel"] = st

    from teamform_teamsapi.emulator.state import membership, team, user as t_user
    st = emulators["teamsapi"](rate_limit=None).state
    st["users"] = [t_user(i + 1, email(i), f"P{i}", "Person") for i in live]
    teams, members = [], []
    by_team: dict[int, list[int]] = {}  # a person's team is i // TEAM_SIZE on both sides: drift stays drift
    for i in live_desired:
        by_team.setdefault(i // TEAM_SIZE, []).append(i)
    for t in range((n + TEAM_SIZE - 1) // TEAM_SIZE):
        teams.append(team(f"team_{t}", f"Team {t}", 1, limit=TEAM_SIZE * 2))
        members.append(membership(len(members) + 1, f"team_{t}", 1, "Admin", invited=False))
        for i in by_team.get(t, ()):
            if i:
                members.append(membership(len(members) + 1, f"team_{t}", i + 1, "Member"))
    for k, i in enumerate(i for i in live if i >= n):  # the people who left, spread over the teams
        members.append(membership(len(members) + 1, f"team_{k % len(teams)}", i + 1, "Member"))
    st["teams"], st["memberships"], st["next_id"] = teams, members, 10 * n + 100
    st["tokens"] = {"sandbox-token": 1}
    out["teamsapi"] = st

    from teamform_debrief.emulator.seed import user as d_user
    st = emulators["debrief"](rate_limit=None).state
    st["users"] = st["users"][:1] + [d_user(f"u{i + 10}", email(i), f"P{i}", "Person") for i in live]
    st["applications"], st["app_users"], st["next_id"] = [], [], 10 * n + 100
    out["debrief"] = st

    from teamform_workdrive.emulator.records import new_user, uid
    st = emulators["workdrive"](rate_limit=None).state
    dept_of = {i: uid(5 * n + i // TEAM_SIZE) for i in live_desired}
    present = set(live_desired)
    users = [new_user(uid(i + 1), email(i), f"P{i}", "Person", department=dept_of.get(i)) for i in live]
    st["users"] = {u["id"]: u for u in users}
    st["departments"] = {uid(5 * n + t): {"id": uid(5 * n + t), "name": f"Dept {t}",
                                          "heads": [uid(t * TEAM_SIZE + 1)]}
                         for t in range((n + TEAM_SIZE - 1) // TEAM_SIZE) if t * TEAM_SIZE in present}
    st["locations"], st["groups"], st["next_id"] = {}, {}, 10 * n + 100
    out["workdrive"] = st
    return out


# ---- the server process -------------------------------------------------------------------
def _serve(store_dir: str, ports_json: str) -> None:
    """Child: every emulator from its stored state, on its port, rate limits lifted."""
    import uvicorn

    from teamform.provider.registry import installed

    async def main() -> None:
        servers = []
        for name, port in json.loads(ports_json).items():
            emulator = installed()[name].emulator_class(state=json.loads((Path(store_dir) / f"{name}.json").read_text()),
                                                          rate_limit=None)
            emulator.rate_limit = None
            emulator.save = lambda: None  # the bench plans only; nothing to persist
            servers.append(uvicorn.Server(uvicorn.Config(emulator, host="127.0.0.1", port=port,
                                                         log_level="warning", lifespan="off")))
        print("ready", flush=True)
        await asyncio.gather(*(s.serve() for s in servers))

    asyncio.run(main())


def _phases(path: str, out: str) -> None:
    """Child: the CLI's plan --out, phase by phase; prints one JSON line."""
    t = [time.perf_counter()]
    from teamform import config as cfg
    from teamform.render import render
    from teamform.session import Session

    times: dict[str, float] = {}
    config = cfg.load_path(path)
    times["load"] = time.perf_counter() - t[0]

    async def run() -> Any:
        async with Session(config) as session:
            t0 = time.perf_counter()
            live = await session.fetch()
            times["fetch"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            plan = session.plan(live)
            times["plan"] = time.perf_counter() - t0
            return plan

    holder: list[Any] = []

    async def keep() -> None:  # the plan is kept outside the task, as the CLI should
        holder.append(await run())

    asyncio.run(keep())
    plan = holder[0]
    t0 = time.perf_counter()
    render(plan, "text")
    Path(out).write_text(render(plan, "json"))
    times["render"] = time.perf_counter() - t0
    ops = sum(len(sp.operations) for sp in plan.services) if hasattr(plan, "services") else None
    errors = [str(e) for e in getattr(plan, "errors", [])][:3]
    print(json.dumps({"times": times, "operations": ops, "errors": errors}), flush=True)
    t_exit = time.perf_counter()
    import atexit

    atexit.register(lambda: sys.stderr.write(f"EXIT {time.perf_counter() - t_exit:.3f}\n"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_child(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall time, CPU and peak memory of one child (``wait4`` gives that child's own rusage);
    its output goes to files, so a long plan on stdout never fills a pipe nobody reads."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        return {"rc": proc.returncode, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                "peak_mib": usage.ru_maxrss / 1024, "out": out.read(), "err": err.read()}


def requests_sent(ports: dict[str, int]) -> int:
    import httpx

    return sum(len(httpx.get(f"http://127.0.0.1:{p}/_emulator/log", timeout=600).json()) for p in ports.values())


def bench(n: int, python: str, label: str, work: Path) -> dict[str, Any]:
    ports = {name: free_port() for name in PROVIDERS}
    store = work / f"n{n}"
    store.mkdir(parents=True, exist_ok=True)
    for name, st in live_states(n).items():
        (store / f"{name}.json").write_text(json.dumps(st))
    path = store / "teams.yaml"
    path.write_text(dump(state_file(n, ports)))
    env = {**os.environ, **ENV}
    server = subprocess.Popen([sys.executable, __file__, "_serve", str(store), json.dumps(ports)],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        teamform = str(Path(python).parent / "teamform")
        cli = run_child([teamform, "plan", "-f", str(path), "--out", str(store / "plan.json")], env)
        before = requests_sent(ports)
        phases = run_child([python, __file__, "_phases", str(path), str(store / "plan2.json")], env)
        reqs = requests_sent(ports) - before
    finally:
        server.terminate()
        server.wait()
    try:
        info = json.loads(phases["out"].strip().splitlines()[-1])
    except (IndexError, ValueError):
        sys.stderr.write(phases["err"][-3000:])
        raise
    exit_s = next((float(line.split()[1]) for line in phases["err"].splitlines() if line.startswith("EXIT ")), 0.0)
    if cli["rc"] not in (0, 2):
        sys.stderr.write(f"[{label} n={n}] plan exited {cli['rc']}: {cli['err'][-2000:]}\n")
    size = (store / "plan.json").stat().st_size if (store / "plan.json").exists() else 0
    return {"label": label, "n": n, "ops": info["operations"], "errors": info["errors"], "wall": cli["wall"],
            "cpu": cli["cpu"], "peak_mib": cli["peak_mib"], "plan_mb": size / 1e6, "requests": reqs,
            **{k: v for k, v in info["times"].items()}, "exit": exit_s, "rc": cli["rc"]}


def in_process(n: int) -> None:
    """Phases in this process, the emulators in process too (no HTTP server): quick look."""
    from teamform import config as cfg
    from teamform.render import render
    from teamform.session import Session

    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Path(tmp)
        ports = {name: 1 for name in PROVIDERS}
        doc = state_file(n, ports)
        for svc in doc["services"].values():
            svc["sandbox"] = True
        for name, st in live_states(n).items():
            (sandbox / f"{name}.json").write_text(json.dumps(st))
        path = sandbox / "teams.yaml"
        path.write_text(dump(doc))
        t0 = time.perf_counter()
        config = cfg.load_path(str(path))
        t1 = time.perf_counter()

        async def run() -> Any:
            async with Session(config, sandbox_dir=sandbox, environ=ENV) as s:
                for p in s.providers.values():
                    emu = getattr(p, "emulator", None)
                    if emu is not None:
                        emu.rate_limit = None
                live = await s.fetch()
                t2 = time.perf_counter()
                return s.plan(live), t2

        plan, t2 = asyncio.run(run())
        t3 = time.perf_counter()
        render(plan, "json")
        t4 = time.perf_counter()
        print(f"n={n} load {t1 - t0:.2f}s fetch {t2 - t1:.2f}s plan {t3 - t2:.2f}s render {t4 - t3:.2f}s "
              f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


COLUMNS = ("label", "n", "ops", "requests", "load", "fetch", "plan", "render", "exit", "wall", "cpu", "peak_mib",
           "plan_mb")


def table(rows: list[dict[str, Any]]) -> str:
    def cell(v: Any) -> str:
        return f"{v:.2f}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_serve":
        return _serve(sys.argv[2], sys.argv[3])
    if len(sys.argv) > 1 and sys.argv[1] == "_phases":
        return _phases(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    ap.add_argument("--python", action="append", default=[], help="another interpreter to compare (label=PATH)")
    ap.add_argument("--in-process", action="store_true")
    args = ap.parse_args()
    if args.in_process:
        for n in args.sizes:
            in_process(n)
        return
    pythons = [tuple(p.split("=", 1)) if "=" in p else ("other", p) for p in args.python]
    pythons.append(("this", sys.executable))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            for label, python in pythons:
                row = bench(n, python, label, Path(tmp) / label)
                rows.append(row)
                print(table([row]).splitlines()[-1], flush=True)
                if row["errors"]:
                    print(f"   plan errors: {row['errors']}", flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
