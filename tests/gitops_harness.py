"""Shared helpers for the workflow tests: read the workflows, run one step the way GitHub Actions
would (bash -e for run:, a node stand-in for actions/github-script), or whole workflows (Runner)."""

from __future__ import annotations

import http.server
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as true
    return doc


def steps(workflow: str, job: str) -> list[dict]:
    return load(workflow)["jobs"][job]["steps"]


def step(workflow: str, job: str, name_part: str) -> dict:
    """The step whose id is name_part, else the one step whose name contains it."""
    found = [s for s in steps(workflow, job) if name_part == s.get("id")] or \
        [s for s in steps(workflow, job) if name_part in str(s.get("name", ""))]
    assert len(found) == 1, (workflow, name_part, [s.get("name") for s in steps(workflow, job)])
    return found[0]


def index(workflow: str, job: str, name_part: str) -> int:
    return steps(workflow, job).index(step(workflow, job, name_part))


def bash(script: str, cwd: Path, env: dict[str, str], path_dir: Path | None = None) -> subprocess.CompletedProcess:
    """Run a `run:` script the way Actions does when no shell is given: bash -e."""
    full = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **env}
    if path_dir:
        full["PATH"] = f"{path_dir}:{full['PATH']}"
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=full, capture_output=True, text=True, timeout=60)


def fake(tmp: Path, name: str, body: str) -> Path:
    """An executable `name` in tmp/bin running the bash `body`."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    exe = bin_dir / name
    exe.write_text("#!/usr/bin/env bash\n" + body)
    exe.chmod(0o755)
    return bin_dir


_SCRIPTS: dict[str, Any] = {}


def github_script(script: str, cwd: Path, env: dict[str, str], responses: dict | None = None,
                  context: dict | None = None, path_dir: Path | None = None) -> list:
    """Run a github-script body with canned REST answers; every REST and core call, in order."""
    import atexit
    import tempfile

    if "server" not in _SCRIPTS:
        _SCRIPTS["server"] = ScriptServer(Path(tempfile.mkdtemp(prefix="github-script-")))
        atexit.register(_SCRIPTS["server"].close)
    ctx = {"repo": {"owner": "o", "repo": "r"}, "runId": 4242, "sha": "a" * 40,
           "serverUrl": "https://github.com", "payload": {}, **(context or {})}
    full = {"PATH": os.environ["PATH"], **env}
    if path_dir:
        full["PATH"] = f"{path_dir}:{full['PATH']}"
    answer = _SCRIPTS["server"].ask({"script": script, "context": ctx, "env": full, "cwd": str(cwd),
                                     "responses": responses or {}})
    assert answer["ok"], answer["output"]
    return answer["calls"]


def created_bodies(calls: list) -> list[str]:
    return [params["body"] for name, params in calls
            if name in ("issues.createComment", "issues.updateComment", "issues.create")]


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd,
                          capture_output=True, text=True)
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout.strip()


# =================================================================================================
# A local runner: caller workflows and the reusable workflows they call, run as GitHub Actions
# runs them. Expressions (${{ }}) are evaluated, `if:` with the status functions, jobs in `needs`
# order with their outputs, steps with GITHUB_ENV/GITHUB_OUTPUT/GITHUB_STEP_SUMMARY, secrets passed
# by name (an environment's secret wins in the job that runs in that environment), `run:` with
# bash -e. The third-party actions are stand-ins with the same inputs and outputs: checkout (a
# depth-1 fetch of the commit from a local origin), setup-python (nothing), github-script (node,
# against FakeGitHub over HTTP), upload-/download-artifact (FakeGitHub's artifact store, with
# v4's hidden-file, overwrite and cross-run rules).
# =================================================================================================

# ---- expressions ----------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|"
                    r"(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\],.])|(?P<id>[A-Za-z_][A-Za-z0-9_-]*))")


class ExpressionError(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"cannot read {text[pos:]!r} in {text!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _num(v: Any) -> float:
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip()) if v.strip() else 0.0
        except ValueError:
            return float("nan")
    return float("nan")


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()  # GitHub compares strings ignoring case
    if type(a) is type(b) or (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        return a == b
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return a is b
    return _num(a) == _num(b)


def truthy(v: Any) -> bool:
    if isinstance(v, float) and v != v:
        return False
    return v not in (None, False, 0, "", 0.0)


def to_str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v, indent=2)
    return str(v)


def _get(obj: Any, key: Any) -> Any:
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for k, v in obj.items():  # property names are case-insensitive
            if isinstance(k, str) and isinstance(key, str) and k.lower() == key.lower():
                return v
        return None
    if isinstance(obj, list) and isinstance(key, (int, float)):
        return obj[int(key)] if 0 <= int(key) < len(obj) else None
    return None


class _Parser:
    def __init__(self, text: str, ctx: dict) -> None:
        self.toks, self.i, self.ctx = _tokens(text), 0, ctx

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise ExpressionError(f"expected {value!r}, got {tok!r}")
        self.i += 1
        return tok

    def parse(self) -> Any:
        v = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()!r}")
        return v

    def or_(self) -> Any:
        v = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            w = self.and_()
            v = v if truthy(v) else w
        return v

    def and_(self) -> Any:
        v = self.eq()
        while self.peek() == ("op", "&&"):
            self.take()
            w = self.eq()
            v = w if truthy(v) else v
        return v

    def eq(self) -> Any:
        v = self.cmp()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            w = self.cmp()
            v = _eq(v, w) if op == "==" else not _eq(v, w)
        return v

    def cmp(self) -> Any:
        v = self.unary()
        while self.peek() in (("op", "<"), ("op", ">"), ("op", "<="), ("op", ">=")):
            op = self.take()[1]
            a, b = _num(v), _num(self.unary())
            v = {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        return v

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.postfix()

    def postfix(self) -> Any:
        v = self.primary()
        while True:
            tok = self.peek()
            if tok == ("op", "."):
                self.take()
                v = _get(v, self.take()[1])
            elif tok == ("op", "["):
                self.take()
                key = self.or_()
                self.take("]")
                v = _get(v, key)
            else:
                return v

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "num":
            return float(value)
        if value == "(":
            v = self.or_()
            self.take(")")
            return v
        if kind != "id":
            raise ExpressionError(f"unexpected {value!r}")
        if value in ("true", "false"):
            return value == "true"
        if value == "null":
            return None
        if self.peek() == ("op", "("):
            self.take()
            args = []
            while self.peek() != ("op", ")"):
                args.append(self.or_())
                if self.peek() == ("op", ","):
                    self.take()
            self.take(")")
            return self.call(value, args)
        if value.lower() not in self.ctx:
            raise ExpressionError(f"unknown context {value!r}")
        return self.ctx[value.lower()]

    def call(self, name: str, args: list) -> Any:
        status = self.ctx.get("__status__", "success")
        fn = name.lower()
        if fn == "always":
            return True
        if fn == "success":
            return status == "success"
        if fn == "failure":
            return status == "failure"
        if fn == "cancelled":
            return status == "cancelled"
        if fn == "tojson":
            return json.dumps(args[0], indent=2)
        if fn == "fromjson":
            return json.loads(args[0])
        if fn == "contains":
            hay, needle = args
            return any(_eq(x, needle) for x in hay) if isinstance(hay, list) else \
                to_str(needle).lower() in to_str(hay).lower()
        if fn == "startswith":
            return to_str(args[0]).lower().startswith(to_str(args[1]).lower())
        if fn == "format":
            return re.sub(r"\{(\d+)\}", lambda m: to_str(args[1 + int(m.group(1))]), args[0])
        raise ExpressionError(f"unknown function {name}")


def evaluate(expr: str, ctx: dict) -> Any:
    return _Parser(expr, ctx).parse()


_INTERP = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def interpolate(value: Any, ctx: dict) -> Any:
    """A workflow value with its ${{ }} parts evaluated; a value that is one whole expression keeps its type."""
    if isinstance(value, str):
        whole = _INTERP.fullmatch(value.strip())
        if whole:
            return evaluate(whole.group(1), ctx)
        return _INTERP.sub(lambda m: to_str(evaluate(m.group(1), ctx)), value)
    if isinstance(value, dict):
        return {k: interpolate(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, ctx) for v in value]
    return value


_STATUS_FN = re.compile(r"\b(always|success|failure|cancelled)\s*\(", re.I)


def condition(value: Any, ctx: dict) -> bool:
    """An `if:`: without a status function it means success() && (it)."""
    if value is None:
        return truthy(evaluate("success()", ctx))
    if isinstance(value, bool):
        return value and ctx.get("__status__", "success") == "success"
    text = str(value).strip()
    whole = _INTERP.fullmatch(text)
    expr = whole.group(1) if whole else text
    if not _STATUS_FN.search(expr):
        expr = f"success() && ({expr})"
    return truthy(evaluate(expr, ctx))


# ---- a fake GitHub: the REST calls the workflows make, and the artifact store ---------------------
@dataclass
class PullRequest:
    number: int
    head_sha: str
    base_ref: str = "main"
    files: list[str] = field(default_factory=list)
    reviews: list[dict] = field(default_factory=list)
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    from_fork: bool = False


class FakeGitHub:
    """Repository state behind the REST calls of actions/github-script, served over HTTP to node."""

    REPO_ID, FORK_ID = 1001, 2002

    def __init__(self, owner: str = "acme", repo: str = "roster") -> None:
        self.owner, self.repo = owner, repo
        self.pulls: dict[int, PullRequest] = {}
        self.comments: dict[int, list[dict]] = {}
        self.issues: dict[int, dict] = {}
        self.artifacts: list[dict] = []
        self.calls: list[tuple[str, dict]] = []
        self._ids = itertools.count(1)
        self._runs = itertools.count(5000)
        self._server: http.server.ThreadingHTTPServer | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    def next_run_id(self) -> int:
        return next(self._runs)

    # -- REST ------------------------------------------------------------------------------------
    def call(self, name: str, p: dict) -> Any:
        self.calls.append((name, p))
        handler = getattr(self, "rest_" + name.replace(".", "_"), None)
        if handler is None:
            raise KeyError(f"FakeGitHub does not answer {name}")
        return handler(p)

    def _pr_json(self, pr: PullRequest) -> dict:
        head_repo = f"someone/{self.repo}" if pr.from_fork else self.full_name
        return {"number": pr.number, "head": {"sha": pr.head_sha, "repo": {"full_name": head_repo}},
                "base": {"ref": pr.base_ref}, "merged_at": pr.merged_at, "merge_commit_sha": pr.merge_commit_sha}

    def rest_pulls_get(self, p):
        return self._pr_json(self.pulls[p["pull_number"]])

    def rest_pulls_listFiles(self, p):
        return [{"filename": f} for f in self.pulls[p["pull_number"]].files]

    def rest_pulls_listReviews(self, p):
        return self.pulls[p["pull_number"]].reviews

    def rest_repos_listPullRequestsAssociatedWithCommit(self, p):
        return [self._pr_json(pr) for pr in self.pulls.values()
                if p["commit_sha"] in (pr.head_sha, pr.merge_commit_sha)]

    def rest_issues_listComments(self, p):
        return self.comments.get(p["issue_number"], [])

    def rest_issues_createComment(self, p):
        comment = {"id": next(self._ids), "body": p["body"], "user": {"login": "github-actions[bot]", "type": "Bot"}}
        self.comments.setdefault(p["issue_number"], []).append(comment)
        return comment

    def rest_issues_updateComment(self, p):
        for comments in self.comments.values():
            for c in comments:
                if c["id"] == p["comment_id"]:
                    c["body"] = p["body"]
                    return c
        raise KeyError(p["comment_id"])

    def rest_issues_create(self, p):
        number = 900 + next(self._ids)
        self.issues[number] = {"number": number, "title": p["title"], "body": p["body"], "state": "open",
                               "labels": [{"name": n} for n in p.get("labels", [])]}
        return self.issues[number]

    def rest_issues_update(self, p):
        issue = self.issues[p["issue_number"]]
        issue.update({k: v for k, v in p.items() if k in ("body", "state", "title", "state_reason")})
        return issue

    def rest_issues_listForRepo(self, p):
        label = p.get("labels")
        return [i for i in self.issues.values() if i["state"] == p.get("state", "open")
                and (not label or label in [x["name"] for x in i["labels"]])]

    def rest_actions_listArtifactsForRepo(self, p):
        found = [self._artifact_json(a) for a in self.artifacts if not p.get("name") or a["name"] == p["name"]]
        return {"total_count": len(found), "artifacts": sorted(found, key=lambda a: a["created_at"], reverse=True)}

    def _artifact_json(self, a: dict) -> dict:
        return {k: v for k, v in a.items() if k != "files"}

    # -- artifacts (what upload- and download-artifact do) ---------------------------------------
    def upload(self, run: "RunState", name: str, files: dict[str, bytes], overwrite: bool) -> dict:
        mine = [a for a in self.artifacts if a["workflow_run"]["id"] == run.run_id and a["name"] == name]
        if mine and not overwrite:
            raise RuntimeError(f"an artifact named {name} already exists in run {run.run_id}")
        for a in mine:
            self.artifacts.remove(a)
        artifact = {"id": next(self._ids), "name": name, "expired": False,
                    "created_at": f"2026-12-01T00:00:{len(self.artifacts):02d}Z",
                    "workflow_run": {"id": run.run_id, "repository_id": self.REPO_ID,
                                     "head_repository_id": self.FORK_ID if run.from_fork else self.REPO_ID,
                                     "head_branch": run.head_branch, "head_sha": run.head_sha},
                    "files": files}
        self.artifacts.append(artifact)
        return artifact

    def artifact(self, run_id: int, name: str) -> dict | None:
        found = [a for a in self.artifacts if a["workflow_run"]["id"] == run_id and a["name"] == name]
        return found[-1] if found else None

    # -- serving ---------------------------------------------------------------------------------
    def serve(self) -> str:
        if self._server is None:
            fake = self

            class Handler(http.server.BaseHTTPRequestHandler):
                def do_POST(self):  # noqa: N802
                    params = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                    try:
                        status, body = 200, fake.call(self.path.strip("/"), params)
                    except Exception as exc:  # noqa: BLE001 - the script sees an HTTP error, as with octokit
                        status, body = 404, {"message": f"{type(exc).__name__}: {exc}"}
                    data = json.dumps(body).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

                def log_message(self, *args):
                    pass

            self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


# github-script against FakeGitHub: `core` writes GITHUB_OUTPUT/GITHUB_ENV and workflow commands
# as the real toolkit does; setFailed (or a throw) fails the step. One node process serves every
# script in turn (a request per line on stdin: the script, its context, environment and directory),
# because starting node costs more than most scripts.
LIVE_SCRIPT = r"""
const fs = require('fs');
const http = require('http');  // not fetch: undici compiles its parser on first use (a second here)
const readline = require('readline');
const post = (url, payload) => new Promise((resolve, reject) => {
  const req = http.request(url, { method: 'POST', headers: { 'Content-Length': Buffer.byteLength(payload) } }, res => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', c => { text += c; });
    res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
  });
  req.on('error', reject);
  req.end(payload);
});
const call = key => async (params) => {
  const r = await post(`${process.env.FAKE_GITHUB}/${key}`, JSON.stringify(params || {}));
  if (r.status >= 400) { const e = new Error(r.body.message); e.status = r.status; throw e; }
  return { data: r.body };
};
const rest = new Proxy({}, { get: (_, ns) => new Proxy({}, { get: (_, fn) => call(`${ns}.${fn}`) }) });
const paginate = async (fn, params) => {
  const { data } = await fn(params);
  if (Array.isArray(data)) return data;
  const key = Object.keys(data).find(k => Array.isArray(data[k]));
  return key ? data[key] : [];
};
const github = { rest, paginate };
const append = (file, name, value) => {
  const v = String(value);
  fs.appendFileSync(file, v.includes('\n') ? `${name}<<__EOF__\n${v}\n__EOF__\n` : `${name}=${v}\n`);
};
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const reply = process.stdout.write.bind(process.stdout);
const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', line => { queue = queue.then(() => serve(JSON.parse(line))); });
function canned(responses, calls) {
  // every REST and core call recorded; REST answers from `responses` (the unit tests' mode)
  const rec = name => async (params) => { calls.push([name, params]); return { data: responses[name] ?? [] }; };
  const rest = new Proxy({}, { get: (_, ns) => new Proxy({}, { get: (_, fn) => rec(`${ns}.${fn}`) }) });
  const core = new Proxy({}, { get: (_, fn) => (...args) => { calls.push([`core.${fn}`, args]); } });
  return { github: { rest, paginate: async (fn, params) => (await fn(params)).data }, core };
}
async function serve(spec) {
  const out = [];
  const calls = [];
  let failed = false;
  const log = (...args) => out.push(args.map(String).join(' '));
  let core = {
    setOutput: (n, v) => append(process.env.GITHUB_OUTPUT, n, v),
    exportVariable: (n, v) => { append(process.env.GITHUB_ENV, n, v); process.env[n] = String(v); },
    setFailed: m => { log(`::error::${m}`); failed = true; },
    info: m => log(m), debug: () => {},
    notice: m => log(`::notice::${m}`), warning: m => log(`::warning::${m}`), error: m => log(`::error::${m}`),
  };
  let gh = github;
  if (spec.responses) ({ github: gh, core } = canned(spec.responses, calls));
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, spec.env);
  process.chdir(spec.cwd);
  const console_log = console.log;
  console.log = log;
  try {
    await new AsyncFunction('require', 'github', 'context', 'core', spec.script)(require, gh, spec.context, core);
  } catch (e) {
    log(`::error::Unhandled error: ${e.stack || e}`);
    failed = true;
  } finally {
    console.log = console_log;
  }
  reply(JSON.stringify({ ok: !failed, output: out.join('\n'), calls }) + '\n');
}
"""


class ScriptServer:
    """The node process that runs github-script bodies, one at a time."""

    def __init__(self, tmp: Path) -> None:
        node = shutil.which("node")
        if not node:
            pytest.skip("node is not available to run the workflows' github-script steps")
        path = tmp / "github-script-server.cjs"
        path.write_text(LIVE_SCRIPT)
        self.proc = subprocess.Popen([node, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, request: dict) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the github-script server stopped"
        return json.loads(line)

    def run(self, script: str, context: dict, env: dict, cwd: Path) -> tuple[bool, str]:
        answer = self.ask({"script": script, "context": context, "env": env, "cwd": str(cwd)})
        return answer["ok"], answer["output"]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)


# ---- runs -----------------------------------------------------------------------------------------
@dataclass
class StepResult:
    name: str
    outcome: str  # success | failure | skipped
    output: str = ""


@dataclass
class JobResult:
    name: str
    result: str  # success | failure | skipped
    outputs: dict[str, str] = field(default_factory=dict)
    steps: list[StepResult] = field(default_factory=list)
    environment: str | None = None
    concurrency: dict | None = None
    timeout: Any = None
    permissions: Any = None
    secrets: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    workspace: Path | None = None

    def step(self, part: str) -> StepResult:
        found = [s for s in self.steps if part in s.name]
        assert len(found) == 1, (part, [s.name for s in self.steps])
        return found[0]

    @property
    def log(self) -> str:
        return "\n".join(f"--- {s.name}: {s.outcome}\n{s.output}" for s in self.steps)


@dataclass
class RunState:
    run_id: int
    head_sha: str
    head_branch: str
    from_fork: bool = False


@dataclass
class Run:
    workflow: str
    triggered: bool
    jobs: dict[str, JobResult] = field(default_factory=dict)  # by id ("caller / called" for a called job)
    run_id: int = 0
    callers: set[str] = field(default_factory=set)  # jobs that call a reusable workflow

    def job(self, name: str) -> JobResult:
        """The job named so (its name, or the called job's name after "caller / ")."""
        found = [j for key, j in self.jobs.items() if key not in self.callers
                 and (j.name == name or j.name.endswith("/ " + name))]
        assert len(found) == 1, (name, [j.name for j in self.jobs.values()])
        return found[0]

    @property
    def conclusion(self) -> str:
        return "failure" if any(j.result == "failure" for j in self.jobs.values()) else "success"

    @property
    def log(self) -> str:
        return "\n".join(f"=== {j.name}: {j.result}\n{j.log}" for j in self.jobs.values())


@dataclass
class Event:
    """What triggers a run: the event, the commit the workflow files and the checkout come from."""

    name: str
    sha: str
    ref: str
    payload: dict
    changed: list[str] = field(default_factory=list)  # for paths filters
    head_sha: str = ""        # the run's head_sha (a pull request's head; else sha)
    head_branch: str = "main"
    from_fork: bool = False


def _glob(pattern: str) -> re.Pattern:
    parts = re.split(r"(\*\*/|\*\*|\*)", pattern)
    body = "".join("(?:.*/)?" if t == "**/" else ".*" if t == "**" else "[^/]*" if t == "*" else re.escape(t)
                   for t in parts)
    return re.compile(body + r"\Z")


def _matches(patterns: list[str] | None, names: list[str]) -> bool:
    return patterns is None or any(_glob(p).match(n) for p in patterns for n in names)


# ---- teamform, fast: one warm process forks a child per call -------------------------------------
# Each `teamform` a workflow step runs would import pydantic, httpx and the providers again (about a
# second of CPU); the runner's `teamform` instead hands its argv, cwd, environment and standard file
# descriptors to a server that imported everything once and forks a child per call. The child is
# the CLI in a fresh process image: its own cwd, environment, exit code.
ZYGOTE_SERVER = r"""
import json, os, signal, socket, struct, sys
from teamform.cli import cli
from teamform.provider.registry import installed
installed()  # import every provider once
path = sys.argv[1]
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(64)
print("ready", flush=True)
while True:
    conn, _ = server.accept()
    data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
    size = struct.unpack("!I", data[:4])[0]
    body = data[4:]
    while len(body) < size:
        body += conn.recv(size - len(body))
    if os.fork() == 0:
        server.close()
        request = json.loads(body)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        code = 0
        try:
            cli.main(request["argv"], prog_name="teamform")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            import traceback; traceback.print_exc(); code = 1
        sys.stdout.flush(); sys.stderr.flush()
        conn.sendall(struct.pack("!i", code))
        os._exit(code)
    for fd in fds:
        os.close(fd)
    conn.close()
"""

ZYGOTE_CLIENT = r"""
import json, os, socket, struct, sys
body = json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    sock.connect(os.environ.get("TEAMFORM_ZYGOTE") or "%(socket)s")
except OSError:
    os.execv("%(teamform)s", ["teamform", *sys.argv[1:]])  # no server: the real thing
socket.send_fds(sock, [struct.pack("!I", len(body)) + body], [0, 1, 2])
reply = b""
while len(reply) < 4:
    chunk = sock.recv(4 - len(reply))
    if not chunk:
        sys.exit(1)
    reply += chunk
sys.exit(struct.unpack("!i", reply)[0])
"""

_ZYGOTE: dict[str, Any] = {}


def fast_teamform(tmp: Path) -> Path:
    """An executable `teamform` backed by the warm server (started once per test session)."""
    real = Path(sys.executable).parent / "teamform"
    if "client" not in _ZYGOTE:
        import atexit
        import tempfile

        where = Path(tempfile.mkdtemp(prefix="teamform-zygote-"))
        sock = where / "s"
        server = where / "server.py"
        server.write_text(ZYGOTE_SERVER)
        proc = subprocess.Popen([sys.executable, str(server), str(sock)], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        ok = proc.stdout.readline().strip() == "ready"

        def stop() -> None:
            proc.terminate()
            proc.wait(timeout=10)
            shutil.rmtree(where, ignore_errors=True)

        atexit.register(stop)
        client = where / "teamform"
        client.write_text(f"#!{sys.executable} -S\n" + ZYGOTE_CLIENT % {"socket": sock, "teamform": real})
        client.chmod(0o755)
        _ZYGOTE["client"] = client if ok else real
    return _ZYGOTE["client"]


class Runner:
    """Runs the workflows of a local origin repository for an event, the way GitHub Actions would."""

    TEAMFORM_REPO = "OWNER/teamform"  # what the docs' callers name; resolved to this repository

    def __init__(self, origin: Path, fake: FakeGitHub, tmp: Path, *, secrets: dict[str, str] | None = None,
                 environments: dict[str, dict[str, str]] | None = None, live: Path | None = None,
                 job_context: dict | None = None, teamform: Path | None = None) -> None:
        self.origin, self.fake, self.tmp = origin, fake, tmp
        self.secrets = secrets or {}
        self.environments = environments or {}
        self.live = live  # a shared .teamform/sandbox: the services, as every job sees them
        self.job_context = job_context if job_context is not None else {}
        self.installs: list[list[str]] = []
        self._work = itertools.count(1)
        self.bin = tmp / "runner-bin"
        self.bin.mkdir(exist_ok=True)
        real = Path(sys.executable)
        exe = teamform or fast_teamform(tmp)
        (self.bin / "python").write_text(
            "#!/usr/bin/env bash\n"
            "# setup-python's python: pip installs are recorded, not done (no network here)\n"
            'if [ "$1" = -m ] && [ "$2" = pip ]; then printf "%s\\n" "$@" > "$RUNNER_INSTALLS/$(date +%s%N)"; exit 0; fi\n'
            f'exec "{real}" "$@"\n')
        (self.bin / "python").chmod(0o755)
        (self.bin / "teamform").unlink(missing_ok=True)
        (self.bin / "teamform").symlink_to(exe)
        self.installs_dir = tmp / "runner-installs"
        self.installs_dir.mkdir(exist_ok=True)
        self._scripts: ScriptServer | None = None

    # -- git ------------------------------------------------------------------------------------
    def show(self, sha: str, path: str) -> str:
        return git(self.origin, "show", f"{sha}:{path}")

    def checkout(self, sha: str) -> Path:
        """The commit in a fresh clone whose `origin` is the origin repository. (A shared clone, not
        actions/checkout's depth-1 fetch, for speed: the guard's depth-1 case has its own test.)"""
        work = self.tmp / f"work-{next(self._work)}"
        done = subprocess.run(f'git clone -q --shared --no-checkout "{self.origin}" "{work}" && '
                              f'git -C "{work}" remote set-url origin "{self.origin.as_uri()}" && '
                              f'git -C "{work}" -c advice.detachedHead=false checkout -q --detach {sha}',
                              shell=True, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return work

    # -- a run of one caller workflow -------------------------------------------------------------
    def run(self, workflow: str, event: Event, inputs: dict | None = None) -> Run:
        doc = yaml.safe_load(self.show(event.sha, workflow))
        on = doc.pop(True, doc.get("on"))
        run = Run(workflow, triggered=self._triggered(on, event))
        if not run.triggered:
            return run
        state = RunState(self.fake.next_run_id(), event.head_sha or event.sha, event.head_branch, event.from_fork)
        run.run_id = state.run_id
        event_path = self.tmp / f"event-{state.run_id}.json"
        event_path.write_text(json.dumps(event.payload))
        github = {"event_name": event.name, "event": event.payload, "sha": event.sha, "ref": event.ref,
                  "repository": self.fake.full_name, "repository_owner": self.fake.owner,
                  "run_id": str(state.run_id), "run_attempt": "1", "server_url": "https://github.com",
                  "workflow_ref": f"{self.fake.full_name}/{workflow}@{event.ref}", "token": "ghs_fake_token",
                  "actor": "octocat", "workspace": ""}
        base = {"github": github, "inputs": inputs or {}, "vars": {}, "env": dict(doc.get("env") or {}),
                "runner": {"os": "Linux", "temp": str(self.tmp)}, "secrets": dict(self.secrets)}
        env_common = {"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_SHA": event.sha, "GITHUB_REF": event.ref,
                      "GITHUB_REPOSITORY": self.fake.full_name, "GITHUB_RUN_ID": str(state.run_id),
                      "GITHUB_RUN_ATTEMPT": "1", "GITHUB_SERVER_URL": "https://github.com",
                      "GITHUB_EVENT_NAME": event.name, "GITHUB_EVENT_PATH": str(event_path),
                      "GITHUB_WORKFLOW_REF": github["workflow_ref"], "GITHUB_ACTOR": "octocat"}
        for job_id in self._order(doc["jobs"]):
            spec = doc["jobs"][job_id]
            needs = self._needs(spec, run.jobs, prefix="")
            ctx = {**base, "needs": needs, "__status__": self._needs_status(spec, run.jobs, "")}
            if not condition(spec.get("if"), ctx):
                run.jobs[job_id] = JobResult(job_id, "skipped")
                continue
            if "uses" in spec:
                self._call(run, state, event, job_id, spec, ctx, env_common)
            else:
                run.jobs[job_id] = self._job(state, event, job_id, spec, ctx, env_common, workflow_source=None)
        return run

    def _triggered(self, on: Any, event: Event) -> bool:
        if isinstance(on, str):
            on = {on: None}
        if isinstance(on, list):
            on = {k: None for k in on}
        if event.name not in on:
            return False
        spec = on[event.name] or {}
        branch = event.ref.removeprefix("refs/heads/") if event.name == "push" else \
            (event.payload.get("pull_request") or {}).get("base", {}).get("ref", "")
        if event.name in ("push", "pull_request"):
            if not _matches(spec.get("branches"), [branch]):
                return False
            if not _matches(spec.get("paths"), event.changed):
                return False
        return True

    @staticmethod
    def _order(jobs: dict) -> list[str]:
        done: list[str] = []
        while len(done) < len(jobs):
            for name, spec in jobs.items():
                needs = spec.get("needs") or []
                needs = [needs] if isinstance(needs, str) else needs
                if name not in done and all(n in done for n in needs):
                    done.append(name)
        return done

    @staticmethod
    def _need_names(spec: dict) -> list[str]:
        needs = spec.get("needs") or []
        return [needs] if isinstance(needs, str) else list(needs)

    def _needs(self, spec: dict, results: dict[str, JobResult], prefix: str) -> dict:
        return {n: {"result": results[prefix + n].result, "outputs": results[prefix + n].outputs}
                for n in self._need_names(spec)}

    def _needs_status(self, spec: dict, results: dict[str, JobResult], prefix: str) -> str:
        """What the status functions say in a job's `if:`: success() when every needed job succeeded,
        failure() when one failed; a skipped one makes neither true (the job is skipped by default)."""
        found = [results[prefix + n].result for n in self._need_names(spec)]
        if any(r in ("failure", "cancelled") for r in found):
            return "failure"
        return "success" if all(r == "success" for r in found) else "skipped"

    def _resolve(self, uses: str, event: Event) -> tuple[dict, str, str]:
        """The called workflow, and the repository and commit it comes from (the job context)."""
        if uses.startswith("./"):
            return yaml.safe_load(self.show(event.sha, uses[2:])), self.fake.full_name, event.sha
        m = re.fullmatch(r"([^/]+/[^/]+)/(\.github/workflows/[^@]+)@(.+)", uses)
        assert m and m.group(1) == self.TEAMFORM_REPO, f"cannot resolve {uses}"
        return yaml.safe_load((ROOT / m.group(2)).read_text()), self.TEAMFORM_REPO, "c0ffee" * 6 + "c0ff"

    def _call(self, run: Run, state: RunState, event: Event, job_id: str, spec: dict, ctx: dict,
              env_common: dict) -> None:
        called, repo, sha = self._resolve(spec["uses"], event)
        on = called.pop(True, called.get("on"))
        declared = on["workflow_call"]
        inputs = {}
        for name, d in (declared.get("inputs") or {}).items():
            value = interpolate((spec.get("with") or {}).get(name, d.get("default")), ctx)
            if d.get("type") == "boolean":
                value = value if isinstance(value, bool) else str(value).lower() == "true"
            elif d.get("type") == "number":
                value = float(value) if value not in (None, "") else None
            inputs[name] = value
        unknown = set(spec.get("with") or {}) - set(declared.get("inputs") or {})
        assert not unknown, f"{job_id}: inputs the called workflow does not declare: {unknown}"
        given = spec.get("secrets") or {}
        if given == "inherit":
            passed = dict(self.secrets)
        else:
            unknown = set(given) - set(declared.get("secrets") or {})
            assert not unknown, f"{job_id}: secrets the called workflow does not declare: {unknown}"
            passed = {k: to_str(interpolate(v, ctx)) for k, v in given.items()}
        for name, d in (declared.get("secrets") or {}).items():
            assert not d.get("required") or name in passed, f"{job_id}: required secret {name} not passed"
        context = {"workflow_repository": repo, "workflow_sha": sha, **self.job_context} \
            if self.job_context.get("identity", True) else {}
        context.pop("identity", None)
        prefix = f"{job_id} / "
        caller_permissions = spec.get("permissions")
        level = {"none": 0, "read": 1, "write": 2}
        for cid, cspec in called["jobs"].items():  # GitHub refuses a called job that asks for more
            for scope, want in (cspec.get("permissions") or {}).items():
                granted = (caller_permissions or {}).get(scope, "none")
                assert level[granted] >= level[want], f"{job_id} grants {scope}: {granted}; {cid} needs {want}"
        for called_id in self._order(called["jobs"]):
            cspec = called["jobs"][called_id]
            cctx = {**ctx, "inputs": inputs, "secrets": passed, "env": dict(called.get("env") or {}),
                    "needs": self._needs(cspec, run.jobs, prefix),
                    "__status__": self._needs_status(cspec, run.jobs, prefix)}
            name = prefix + interpolate(cspec.get("name") or called_id, cctx)
            key = prefix + called_id
            if not condition(cspec.get("if"), cctx):
                run.jobs[key] = JobResult(name, "skipped")
                continue
            result = self._job(state, event, name, cspec, cctx, env_common, workflow_source=(repo, sha, context))
            result.permissions = (caller_permissions, cspec.get("permissions"))
            run.jobs[key] = result
        outputs = {k: to_str(interpolate(v["value"], {**ctx, "jobs": {
            cid: {"outputs": run.jobs[prefix + cid].outputs, "result": run.jobs[prefix + cid].result}
            for cid in called["jobs"]}})) for k, v in (declared.get("outputs") or {}).items()}
        failed = any(run.jobs[prefix + c].result == "failure" for c in called["jobs"])
        run.jobs[job_id] = JobResult(job_id, "failure" if failed else "success", outputs)
        run.callers.add(job_id)

    # -- one job ----------------------------------------------------------------------------------
    def _job(self, state: RunState, event: Event, name: str, spec: dict, ctx: dict, env_common: dict,
             workflow_source: tuple | None) -> JobResult:
        environment = interpolate(spec.get("environment"), ctx) or None
        secrets = dict(ctx["secrets"])
        if environment:  # a secret passed by name takes the environment's value in the job that runs there
            scoped = self.environments.get(environment, {})
            secrets = {k: scoped.get(k, v) for k, v in secrets.items()}
        job = {"status": "success", "container": {}, "services": {}}
        if workflow_source:
            job.update(workflow_source[2])
        ctx = {**ctx, "secrets": secrets, "job": job, "steps": {}}
        result = JobResult(name, "success", environment=environment,
                           concurrency=interpolate(spec.get("concurrency"), ctx),
                           timeout=interpolate(spec.get("timeout-minutes"), ctx),
                           permissions=spec.get("permissions"), secrets=secrets)
        work = self.tmp / f"work-{next(self._work)}"
        work.mkdir()
        result.workspace = work
        files = {k: self.tmp / f"{work.name}-{k}" for k in ("env", "output", "summary", "path")}
        job_env = {k: to_str(v) for k, v in interpolate(spec.get("env") or {}, ctx).items()}
        exported: dict[str, str] = {}
        status = "success"
        steps_ctx: dict[str, dict] = {}
        for index, step in enumerate(spec.get("steps") or []):
            ctx = {**ctx, "steps": steps_ctx, "env": {**ctx["env"], **job_env, **exported},
                   "__status__": status}
            label = step.get("name") or step.get("uses") or f"step {index}"
            label = to_str(interpolate(label, ctx)) if isinstance(label, str) else str(label)
            if not condition(step.get("if"), ctx):
                result.steps.append(StepResult(label, "skipped"))
                if step.get("id"):
                    steps_ctx[step["id"]] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                continue
            for f in files.values():
                f.write_text("")
            step_env = {k: to_str(v) for k, v in interpolate(step.get("env") or {}, ctx).items()}
            env = {**env_common, "GITHUB_WORKSPACE": str(work), "RUNNER_TEMP": str(self.tmp),
                   "GITHUB_ENV": str(files["env"]), "GITHUB_OUTPUT": str(files["output"]),
                   "GITHUB_STEP_SUMMARY": str(files["summary"]), "GITHUB_PATH": str(files["path"]),
                   "HOME": str(self.tmp), "PATH": f"{self.bin}:{os.environ['PATH']}",
                   "RUNNER_INSTALLS": str(self.installs_dir), "LC_ALL": "C.UTF-8",
                   **job_env, **exported, **step_env}
            try:
                ok, output, outputs = self._step(state, event, step, ctx, env, work)
            except Exception as exc:  # a stand-in refusing bad inputs is a failed step, as on GitHub
                ok, output, outputs = False, f"{type(exc).__name__}: {exc}", {}
            outputs.update(self._read_kv(files["output"]))
            exported.update(self._read_kv(files["env"]))
            result.summary += files["summary"].read_text()
            outcome = "success" if ok else "failure"
            if not ok and step.get("continue-on-error"):
                outcome = "success"
            result.steps.append(StepResult(label, "success" if ok else "failure", output))
            if step.get("id"):
                steps_ctx[step["id"]] = {"outputs": outputs, "outcome": "success" if ok else "failure",
                                         "conclusion": outcome}
            if outcome == "failure":
                status = "failure"
        result.result = status
        ctx = {**ctx, "steps": steps_ctx, "__status__": status}
        result.outputs = {k: to_str(interpolate(v, ctx)) for k, v in (spec.get("outputs") or {}).items()}
        if self.live is not None and (work / ".teamform" / "sandbox").exists():
            shutil.copytree(work / ".teamform" / "sandbox", self.live, dirs_exist_ok=True)
        return result

    @staticmethod
    def _read_kv(path: Path) -> dict[str, str]:
        out: dict[str, str] = {}
        lines = path.read_text().splitlines() if path.exists() else []
        i = 0
        while i < len(lines):
            line = lines[i]
            if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
                name, delim = line.split("<<", 1)
                j = lines.index(delim, i + 1)
                out[name] = "\n".join(lines[i + 1:j])
                i = j + 1
                continue
            if "=" in line:
                name, value = line.split("=", 1)
                out[name] = value
            i += 1
        return out

    def _step(self, state: RunState, event: Event, step: dict, ctx: dict, env: dict,
              work: Path) -> tuple[bool, str, dict]:
        if "run" in step:
            script = step["run"]
            assert "${{" not in script, "values reach scripts through env:"
            done = subprocess.run(["bash", "-e", "-c", script], cwd=work, env=env, capture_output=True, text=True,
                                  timeout=300)
            return done.returncode == 0, done.stdout + done.stderr, {}
        uses = step["uses"]
        action, _, ref = uses.partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{uses}: third-party actions are pinned by commit SHA"
        with_ = {k: to_str(v) for k, v in interpolate(step.get("with") or {}, ctx).items()}
        if action == "actions/checkout":
            fresh = self.checkout(event.sha)
            for item in fresh.iterdir():
                shutil.move(str(item), work / item.name)
            if self.live is not None and self.live.exists():
                shutil.copytree(self.live, work / ".teamform" / "sandbox", dirs_exist_ok=True)
            return True, f"checked out {event.sha}", {}
        if action == "actions/setup-python":
            return True, f"python {with_.get('python-version')}", {}
        if action == "actions/github-script":
            return self._script(with_["script"], ctx, env, work)
        if action == "actions/upload-artifact":
            return self._upload(state, with_, work)
        if action == "actions/download-artifact":
            return self._download(state, with_, work)
        raise AssertionError(f"no stand-in for {uses}")

    def _script(self, script: str, ctx: dict, env: dict, work: Path) -> tuple[bool, str, dict]:
        if self._scripts is None:
            self._scripts = ScriptServer(self.tmp)
        github = ctx["github"]
        context = {"repo": {"owner": self.fake.owner, "repo": self.fake.repo}, "runId": int(github["run_id"]),
                   "sha": github["sha"], "ref": github["ref"], "eventName": github["event_name"],
                   "serverUrl": github["server_url"], "payload": github["event"], "actor": github["actor"]}
        ok, output = self._scripts.run(script, context, {**env, "FAKE_GITHUB": self.fake.serve()}, work)
        return ok, output, {}

    def close(self) -> None:
        if self._scripts is not None:
            self._scripts.close()
        self.fake.close()

    def _upload(self, state: RunState, with_: dict, work: Path) -> tuple[bool, str, dict]:
        found: list[Path] = []
        for line in with_["path"].splitlines():
            line = line.strip()
            if not line:
                continue
            p = work / line
            found += sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else ([p] if p.is_file() else [])
        hidden = with_.get("include-hidden-files", "false") != "true"
        kept = [p for p in found if not (hidden and any(part.startswith(".") for part in p.relative_to(work).parts))]
        if not kept:
            how = with_.get("if-no-files-found", "warn")
            if how == "error":
                return False, "::error::No files were found with the provided path", {}
            return True, f"::{'warning' if how == 'warn' else 'debug'}::No files were found", {}
        root = Path(os.path.commonpath([str(p.parent) for p in kept]))
        files = {str(p.relative_to(root)): p.read_bytes() for p in kept}
        artifact = self.fake.upload(state, with_["name"], files, with_.get("overwrite", "false") == "true")
        url = f"https://github.com/{self.fake.full_name}/actions/runs/{state.run_id}/artifacts/{artifact['id']}"
        return True, f"uploaded {sorted(files)}", {"artifact-id": str(artifact["id"]), "artifact-url": url}

    def _download(self, state: RunState, with_: dict, work: Path) -> tuple[bool, str, dict]:
        run_id = with_.get("run-id") or ""
        if run_id and not with_.get("github-token"):
            return False, "::error::a run-id needs a github-token", {}
        artifact = self.fake.artifact(int(run_id) if run_id else state.run_id, with_["name"])
        if artifact is None:
            return False, f"::error::Artifact not found for name: {with_['name']}", {}
        dest = work / (with_.get("path") or ".")
        for rel, data in artifact["files"].items():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            (dest / rel).write_bytes(data)
        return True, f"downloaded {sorted(artifact['files'])}", {"download-path": str(dest)}
