"""WorkDrive's requests for one apply: a generated organization of N people in 20 departments and
5 locations with about 10 % drift (new people placed, people leaving with their places, people
moving department and location), planned and applied against the in-process emulator.

    .venv/bin/python bench/workdrive_calls.py 1000 [boss]

``boss``: the new people name their department's head as supervisor (``reports_to``), which lets
the bulk create place them. Prints the operations and the write calls by endpoint; run it with
another checkout's interpreter to compare.
"""
import asyncio, collections, re, sys, time
import yaml
from teamform.testing import load, plan_apply
from teamform_workdrive.emulator import WorkDriveEmulator, new_user, uid

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
def email(i): return f"p{i}@example.com"
desired = list(range(N)); missing = {i for i in desired if i % 25 == 7}
moving = {i for i in desired if i % 33 == 5 and i not in missing and i % 50}
gone = list(range(N, N + N * 3 // 100))
D, L = 20, 5
def dept(i): return i * D // N
def loc(i): return i % L
users, depts, locs = {}, {}, {}
for t in range(D):
    depts[uid(5 * N + t)] = {"id": uid(5 * N + t), "name": f"Dept {t}", "heads": [uid(t * (N // D) + 1)]}
for t in range(L):
    locs[uid(6 * N + t)] = {"id": uid(6 * N + t), "name": f"Loc {t}"}
members = []
for i in [i for i in desired if i not in missing] + gone:
    j = i % N
    d = dept(j) if i not in moving else (dept(j) + 1) % D
    l = loc(j) if i not in moving else (loc(j) + 1) % L
    if i in moving and j % (N // D) == 0: d = dept(j)
    users[uid(i + 1)] = new_user(uid(i + 1), email(i), f"P{i}", "Person", department=uid(5 * N + d), location=uid(6 * N + l))
    if i % 10 == 0: members.append(uid(i + 1))
state = {"api_key": "k", "users": users, "departments": depts, "locations": locs,
         "groups": {uid(7 * N): {"id": uid(7 * N), "name": "Tenth", "members": members}}, "next_id": 10 * N}
BOSS = len(sys.argv) > 2
section = {"users": [{"who": email(i), **({"reports_to": email(dept(i) * (N // D))} if BOSS and i in missing else {})} for i in desired],
           "departments": {f"Dept {t}": {"heads": [email(t * (N // D))],
                                         "members": [email(i) for i in desired if dept(i) == t and i != t * (N // D)]}
                           for t in range(D)},
           "locations": {f"Loc {t}": [email(i) for i in desired if loc(i) == t] for t in range(L)},
           "security_groups": {"Tenth": [email(i) for i in desired if i % 10 == 0]}}
people = "\n".join(f"  {email(i)}: {{name: P{i} Person}}" for i in desired)
body = "\n".join("    " + l for l in yaml.safe_dump(section, sort_keys=False).splitlines())
config = load(f"""version: 1
people:
{people}
services:
  wd:
    provider: workdrive
    base_url: https://wd.example.com/api
    credentials: {{api_key: env:WD_KEY}}
    policy: {{max_removals: 100%}}
{body}
""")
emu = WorkDriveEmulator(state, rate_limit=None)
emu.rate_limit = None
t0 = time.perf_counter()
plan, report = asyncio.run(plan_apply(config, {"wd": emu}, environ={"WD_KEY": "k"}))
t1 = time.perf_counter()
assert report.ok, report.by_status("failed")[:3]
calls = collections.Counter()
for e in emu.log:
    path = re.sub(r"[0-9a-f]{8}-0000-4000-8000-[0-9a-f]{12}", "{id}", e.path)
    calls[(e.method, path)] += 1
print(f"N={N} operations {sum(plan.counts().values())} {dict(plan.counts())} apply+plan {t1 - t0:.1f}s")
writes = {k: v for k, v in calls.items() if k[0] != "GET"}
print("writes", sum(writes.values()), "reads", sum(v for k, v in calls.items() if k[0] == "GET"))
for k, v in sorted(writes.items()): print("  ", v, *k)
