"""How teamform scales: N people in five services, ~10 % drift, emulators served over loopback
from another process (rate limits lifted on both sides unless --defaults).

    .venv/bin/python bench/scale.py 1000 10000 [--python before=OTHER_VENV/bin/python] [--repeat 3]
    .venv/bin/python bench/scale.py 10000 --latency 0.01 --naive     # end to end against a naive script
    .venv/bin/python bench/scale.py 1000 --latency 0.01 --apply --defaults   # apply vs its bound, 429s
    .venv/bin/python bench/scale.py 50000 --one-group                # one group of 50,000 people
    .venv/bin/python bench/scale.py 10000 --profile                  # the phases' top functions

For each N it generates a state file and each emulator's live state (from the emulator's own seed,
with its people replaced), serves the five emulators from one separate process (fresh from the
stored state for each child), then runs

- ``teamform plan --out`` as a subprocess: wall time, CPU and peak memory of the child (``wait4``;
  the data is generated in another child, as a child's peak starts at its parent's), the plan
  file's size;
- this file's ``_phases`` child, which makes the same calls as the CLI and times each phase (load,
  fetch, plan, render, exit), counts the requests it read with (``/_emulator/log``) and the fewest
  writes the providers' bulk calls allow; with ``--apply`` it applies the plan and prints, per
  service, the requests sent, 429s, the time and the bound max(requests / rate, requests x latency
  / concurrency);
- the emulators' process runs under the same interpreter as the children (with ``--python``,
  each interpreter's own emulators); ``TEAMFORM_BENCH_PROFILE_SERVER=FILE`` writes its cProfile
  to FILE when it stops (``{label}`` in FILE: one per interpreter);
- with ``--naive``, the ``_naive`` child: a sysadmin's script, one request at a time (every page
  read, then one request per change), and the ratio of its time to teamform's end to end.

``--python label=PATH`` runs the children with another interpreter too (e.g. a venv with the
code before a change installed), interleaved, so one run prints before and after.

Before measuring, each interpreter compared writes the bytecode of teamform, its installed
providers and these benches once (``python -m compileall``, ``bytecode.py``): a real install has
it, and under ``PYTHONDONTWRITEBYTECODE=1`` every child would otherwise compile them again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import subprocess
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bytecode import write_bytecode  # bench/ is the script's own directory
from scale_data import ENV, PROVIDERS, dump, live_states, state_file


# ---- the server process -------------------------------------------------------------------
def _serve(store_dir: str, ports_json: str, latency: str = "0", limited: str = "") -> None:
    """Child: every emulator from its stored state, on its port; rate limits lifted unless
    ``limited``; ``latency`` seconds added to every request."""
    import uvicorn

    from teamform.provider.registry import installed

    if os.environ.get("TEAMFORM_BENCH_PROFILE_SERVER"):  # the emulators' own profile, written when stopped
        import cProfile
        import signal

        profile = cProfile.Profile()
        profile.enable()

        def dump(*_: Any) -> None:
            profile.disable()
            profile.dump_stats(os.environ["TEAMFORM_BENCH_PROFILE_SERVER"])
            os._exit(0)
        signal.signal(signal.SIGTERM, dump)

    async def main() -> None:
        servers = []
        for name, port in json.loads(ports_json).items():
            emulator = installed()[name].emulator_class(state=json.loads((Path(store_dir) / f"{name}.json").read_text()))
            if not limited:
                emulator.rate_limit = None
            emulator.latency = float(latency)
            emulator.save = lambda: None  # nothing to persist: each run starts from the stored state
            servers.append(uvicorn.Server(uvicorn.Config(emulator, host="127.0.0.1", port=port,
                                                         log_level="warning", lifespan="off")))
        print("ready", flush=True)
        await asyncio.gather(*(s.serve() for s in servers))

    asyncio.run(main())


def _log(port: int) -> list[dict[str, Any]]:
    """The emulator's request log (urllib: httpx.get would make, and profile, a TLS context a call)."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/log", timeout=600) as answer:
        return json.loads(answer.read())


def _phases(path: str, out: str, ports_json: str, do_apply: str, only: str = "") -> None:
    """Child: the CLI's plan --out, phase by phase (then apply, if asked); prints one JSON line."""
    t = [time.perf_counter()]
    from teamform import config as cfg
    from teamform import render as rendering
    from teamform.render import render

    # as the CLI writes it (an older install, compared with --python, had only render_json)
    plan_file = getattr(rendering, "plan_file", lambda plan: render(plan, "json").encode())
    from teamform.session import Session

    ports = {name: port for name, port in json.loads(ports_json).items() if not only or name in only.split(",")}
    selected = only.split(",") if only else None
    times: dict[str, float] = {}
    config = cfg.load_path(path)
    times["load"] = time.perf_counter() - t[0]
    peak = {"load": _peak_mib()}

    async def run() -> None:
        async with Session(config, selected) as session:
            t0 = time.perf_counter()
            live = await session.fetch()
            times["fetch"] = time.perf_counter() - t0
            peak["fetch"] = _peak_mib()
            t0 = time.perf_counter()
            holder.append(session.plan(live))
            times["plan"] = time.perf_counter() - t0
            peak["plan"] = _peak_mib()
            writes.append(min_writes(holder[0], session.providers))

    holder: list[Any] = []
    writes: list[dict[str, int]] = []
    asyncio.run(run())
    plan = holder[0]
    t0 = time.perf_counter()
    render(plan, "text")
    Path(out).write_bytes(plan_file(plan))
    times["render"] = time.perf_counter() - t0
    peak["render"] = _peak_mib()
    reads = {name: [(e["method"], e["path"], e["query"]) for e in _log(port)] for name, port in ports.items()}
    Path(out + ".reads.json").write_text(json.dumps(reads))
    info: dict[str, Any] = {"times": times, "operations": len(plan.operations), "errors": plan.errors[:3],
                            "reads": sum(len(v) for v in reads.values()), "min_writes": sum(writes[0].values()), "peak_mib": peak}
    if do_apply:
        info["apply"] = _apply(config, plan, ports, {n: len(v) for n, v in reads.items()}, selected)
        for name, least in writes[0].items():
            info["apply"]["services"][name]["min_writes"] = least
        times["apply"] = info["apply"]["seconds"]
    print(json.dumps(info), flush=True)
    t_exit = time.perf_counter()
    import atexit

    atexit.register(lambda: sys.stderr.write(f"EXIT {time.perf_counter() - t_exit:.3f}\n"))


def _peak_mib() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def min_writes(plan: Any, providers: dict[str, Any]) -> dict[str, int]:
    """Per service, the fewest write calls the providers' bulk calls allow: one per operation
    without a batch key, and each batch key's operations in full bulk calls."""
    out: dict[str, int] = {}
    batches: dict[tuple[str, str], int] = {}
    for op in plan.operations:
        key = providers[op.service].batch_key(op)
        if key is None:
            out[op.service] = out.get(op.service, 0) + 1
        else:
            batches[(op.service, key)] = batches.get((op.service, key), 0) + 1
    for (service, key), count in batches.items():
        out[service] = out.get(service, 0) - (-count // max(1, providers[service].batch_size(key)))
    return out


def _apply(config: Any, plan: Any, ports: dict[str, int], before: dict[str, int],
           selected: list[str] | None) -> dict[str, Any]:
    """Apply the plan as the CLI's apply does, after reading live state again (its stale check;
    untimed, and those reads are not counted); per service its wall time, requests (writes and
    read-backs), 429s and the bound max(requests / rate, requests x latency / concurrency)."""
    from teamform.session import Session

    ends: dict[str, float] = {}
    clock: dict[str, float] = {}

    async def run() -> Any:
        async with Session(config, selected) as session:
            await session.fetch()  # as the CLI's apply does (its stale check): untimed, its reads not counted
            before.update({name: len(_log(port)) for name, port in ports.items()})
            clock.update(t0=time.perf_counter(), cpu0=time.process_time())
            return await session.apply(plan, on_result=lambda r: ends.__setitem__(r.service, time.perf_counter()))

    holder = [asyncio.run(run())]
    t0 = clock["t0"]
    seconds, cpu = time.perf_counter() - t0, time.process_time() - clock["cpu0"]
    report, services = holder[0], {}
    latency = float(os.environ.get("SCALE_LATENCY") or 0)
    for name, port in ports.items():
        log = _log(port)[before[name]:]
        limits = config.services[name].entry.limits
        sent = len(log)
        bound = max(sent / (limits.requests_per_minute / 60), sent * latency / limits.concurrency)
        took = ends.get(name, t0) - t0
        services[name] = {"requests": sent, "429": sum(1 for e in log if e["status"] == 429),
                          "seconds": round(took, 3), "bound": round(bound, 3),
                          "ratio": round(took / bound, 2) if bound else None}
    return {"seconds": seconds, "cpu": round(cpu, 3), "ok": report.ok, "counts": report.counts(), "services": services}


def _naive(path: str, plan_path: str, only: str = "") -> None:
    """Child: what a sysadmin's script does, one request at a time: read every page (the same GETs
    teamform sent), then one request per change, in the plan's order. The diff itself is taken
    from the saved plan, untimed (comparing two dicts of a few thousand entries is milliseconds)."""
    from teamform import config as cfg
    from teamform.plan import planfile
    from teamform.session import Session

    t0 = time.perf_counter()
    config = cfg.load_path(path)
    plan = planfile.load(plan_path)
    reads = json.loads(Path(plan_path + ".reads.json").read_text())

    async def run() -> dict[str, float]:
        out = {}
        async with Session(config, only.split(",") if only else None) as session:
            t = time.perf_counter()
            for name, provider in session.providers.items():
                origin = str(provider.client.base_url.copy_with(path="/")).rstrip("/")
                for method, where, query in reads[name]:
                    if method == "GET":
                        await provider.client.get(origin + where + (f"?{query}" if query else ""))
            out["fetch"] = time.perf_counter() - t
            t = time.perf_counter()
            for op in plan.operations:
                provider = session.providers[op.service]
                await (provider.replace(op) if op.action == "replace" else provider.apply(op))
            out["write"] = time.perf_counter() - t
        return out

    phases = asyncio.run(run())
    print(json.dumps({"seconds": time.perf_counter() - t0, **phases}), flush=True)


def _generate(n: str, store_dir: str, ports_json: str, *options: str) -> None:
    """Child: each emulator's stored state and the state file."""
    store = Path(store_dir)
    store.mkdir(parents=True, exist_ok=True)
    for name, st in live_states(int(n)).items():
        (store / f"{name}.json").write_text(json.dumps(st))
    doc = state_file(int(n), json.loads(ports_json), defaults="defaults" in options, one_group="one_group" in options)
    (store / "teams.yaml").write_text(dump(doc))


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


def _server(store: Path, ports: dict[str, int], env: dict[str, str], latency: float,
            limited: bool, python: str = sys.executable) -> subprocess.Popen:
    """The emulators' process, run by ``python`` (the interpreter compared: its emulators are served)."""
    server = subprocess.Popen([python, __file__, "_serve", str(store), json.dumps(ports), str(latency),
                               "1" if limited else ""], stdout=subprocess.PIPE, text=True, env=env)
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    return server


def _stop(server: subprocess.Popen) -> float:
    """Stop the emulators' process; the CPU seconds it spent (when it is the bottleneck, the
    figures measure the emulators, not teamform)."""
    server.terminate()
    _, _, usage = os.wait4(server.pid, 0)
    server.returncode = 0
    return usage.ru_utime + usage.ru_stime


def bench(n: int, python: str, label: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One run of one interpreter at one size: the CLI's plan --out (wall, CPU, peak memory), then
    the phases child (and its apply), each against emulators fresh from the stored state."""
    ports = {name: free_port() for name in PROVIDERS}
    store = work / f"n{n}"
    path = store / "teams.yaml"
    env = {**os.environ, **ENV, "SCALE_LATENCY": str(args.latency)}
    if "{label}" in env.get("TEAMFORM_BENCH_PROFILE_SERVER", ""):  # one profile per interpreter compared
        env["TEAMFORM_BENCH_PROFILE_SERVER"] = env["TEAMFORM_BENCH_PROFILE_SERVER"].replace("{label}", label)
    # generated in a child: a process started from this one inherits its peak memory as its own
    # (Linux keeps the high-water mark across exec), so this one stays small
    subprocess.run([sys.executable, __file__, "_generate", str(n), str(store), json.dumps(ports),
                    "defaults" if args.defaults else "", "one_group" if args.one_group else ""], check=True, env=env)
    server = _server(store, ports, env, args.latency, args.defaults, python)
    try:
        teamform = str(Path(python).parent / "teamform")
        only = [a for name in args.only for a in ("--service", name)]
        cli = run_child([teamform, "plan", "-f", str(path), "--out", str(store / "plan.json"), *only], env)
    finally:
        _stop(server)
    server = _server(store, ports, env, args.latency, args.defaults, python)
    try:
        prefix = [python, "-m", "cProfile", "-o", str(store / "phases.prof")] if args.profile else [python]
        phases = run_child(prefix + [__file__, "_phases", str(path), str(store / "plan2.json"), json.dumps(ports),
                                     "1" if args.apply or args.naive else "", ",".join(args.only)], env)
    finally:
        emulators_cpu = _stop(server)
    try:
        info = json.loads(phases["out"].strip().splitlines()[-1])
    except (IndexError, ValueError):
        sys.stderr.write(phases["err"][-3000:])
        raise
    exit_s = next((float(line.split()[1]) for line in phases["err"].splitlines() if line.startswith("EXIT ")), 0.0)
    if cli["rc"] not in (0, 2):
        sys.stderr.write(f"[{label} n={n}] plan exited {cli['rc']}: {cli['err'][-2000:]}\n")
    size = (store / "plan.json").stat().st_size if (store / "plan.json").exists() else 0
    row = {"label": label, "n": n, "ops": info["operations"], "errors": info["errors"], "wall": cli["wall"],
           "cpu": cli["cpu"], "peak_mib": cli["peak_mib"], "plan_mb": size / 1e6, "reads": info["reads"],
           "min_writes": info["min_writes"], **dict(info["times"]), "exit": exit_s, "rc": cli["rc"],
           "emu_cpu": emulators_cpu, "peaks": info.get("peak_mib")}
    if "apply" in info:
        applied = info["apply"]
        row["writes"] = sum(s["requests"] for s in applied["services"].values())
        row["429s"] = sum(s["429"] for s in applied["services"].values())
        row["apply_ok"] = applied["ok"]
        row["apply_cpu"] = applied.get("cpu")
        row["services"] = applied["services"]
        row["e2e"] = sum(info["times"][k] for k in ("load", "fetch", "plan", "render", "apply"))
    if args.naive:
        server = _server(store, ports, env, args.latency, args.defaults, python)
        try:
            naive = run_child([python, __file__, "_naive", str(path), str(store / "plan2.json"), ",".join(args.only)],
                              env)
        finally:
            _stop(server)
        try:
            row["naive"] = json.loads(naive["out"].strip().splitlines()[-1])["seconds"]
        except (IndexError, ValueError):
            sys.stderr.write(naive["err"][-3000:])
            raise
        row["x_naive"] = row["naive"] / row["e2e"]
    if args.profile:
        import io
        import pstats

        text = io.StringIO()
        pstats.Stats(str(store / "phases.prof"), stream=text).sort_stats("tottime").print_stats(15)
        if os.environ.get("TEAMFORM_BENCH_KEEP_PROFILE"):  # for a deeper look (pstats, snakeviz)
            import shutil
            shutil.copy(store / "phases.prof", os.environ["TEAMFORM_BENCH_KEEP_PROFILE"])
        row["profile"] = text.getvalue()
    return row


COLUMNS = ("label", "n", "ops", "reads", "min_writes", "writes", "429s", "load", "fetch", "plan", "render", "exit",
           "wall", "cpu", "peak_mib", "plan_mb", "apply", "apply_cpu", "emu_cpu", "e2e", "naive", "x_naive")


def table(rows: list[dict[str, Any]]) -> str:
    def cell(v: Any) -> str:
        return f"{v:.2f}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(rows[0])
    for key, value in rows[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "n":
            middle = statistics.median(r[key] for r in rows if key in r)
            out[key] = round(middle) if isinstance(value, int) else middle
    out["label"] = f"{rows[0]['label']} (median of {len(rows)})" if len(rows) > 1 else rows[0]["label"]
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_serve":
        return _serve(*sys.argv[2:6])
    if len(sys.argv) > 1 and sys.argv[1] == "_phases":
        return _phases(*sys.argv[2:7])
    if len(sys.argv) > 1 and sys.argv[1] == "_generate":
        return _generate(*sys.argv[2:7])
    if len(sys.argv) > 1 and sys.argv[1] == "_naive":
        return _naive(*sys.argv[2:5])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    ap.add_argument("--python", action="append", default=[], help="another interpreter to compare (label=PATH)")
    ap.add_argument("--latency", type=float, default=0.0, help="seconds the emulators add to each request")
    ap.add_argument("--apply", action="store_true", help="also apply the plan: per-service time against the bound")
    ap.add_argument("--naive", action="store_true", help="also run the naive sequential script (implies --apply)")
    ap.add_argument("--defaults", action="store_true",
                    help="teamform's default limits and the emulators' own rate limits (else both lifted)")
    ap.add_argument("--one-group", action="store_true", help="CrankWheel and Debrief list one group of everyone")
    ap.add_argument("--only", type=lambda v: v.split(","), default=[],
                    help="plan (and apply) only these services, e.g. krisp,crankwheel,debrief (all are loaded)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per size and interpreter; medians are printed")
    ap.add_argument("--profile", action="store_true", help="profile the phases child; print its top functions")
    ap.add_argument("--json", metavar="FILE", help="also write every run's figures to FILE (the suite's quick run reads it)")
    ap.add_argument("--keep", metavar="DIR", help="keep the generated files and plans in DIR (else a temporary one)")
    args = ap.parse_args()
    pythons = [tuple(p.split("=", 1)) if "=" in p else ("other", p) for p in args.python]
    pythons.append(("this", sys.executable))
    for _, python in pythons:
        write_bytecode(python)
    rows, every = [], []
    with (contextlib.nullcontext(args.keep) if args.keep else tempfile.TemporaryDirectory()) as tmp:
        for n in args.sizes:
            runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in pythons}
            for _ in range(args.repeat):  # interleaved, so a busy moment of the machine hits both alike
                for label, python in pythons:
                    row = bench(n, python, label, Path(tmp) / label, args)
                    runs[label].append(row)
                    print(table([row]).splitlines()[-1], flush=True)
                    if row["errors"]:
                        print(f"   plan errors: {row['errors']}", flush=True)
                    for name, svc in (row.get("services") or {}).items():
                        print(f"   {name}: {svc}", flush=True)
                    print(f"   peak MiB after each phase (phases child): {row.get('peaks')}", flush=True)
                    if row.get("profile"):
                        print(row["profile"], flush=True)
            rows += [median_row(r) for r in runs.values()]
            every += [row for r in runs.values() for row in r]
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(every, default=str))


if __name__ == "__main__":
    main()
