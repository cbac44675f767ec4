"""`teamform sandbox serve` over real HTTP on loopback, driven by the real provider."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx

BIN = Path(sys.executable).with_name("teamform")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


SERVED = """version: 1
people: {alice@example.com: {}, erin@example.com: {}}
services:
  krisp:
    provider: krisp
    sandbox: true
"""

CLIENT = """version: 1
people: {alice@example.com: {}, erin@example.com: {}}
services:
  krisp:
    provider: krisp
    base_url: http://127.0.0.1:PORT
    credentials: {api_key: env:KRISP_API_KEY, secret: env:KRISP_SECRET}
    policy: {max_removals: 10}
    members: [{who: alice@example.com, role: Admin}, {who: erin@example.com}]
"""


@contextlib.contextmanager
def served(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """`teamform sandbox serve` on a free port, and teams.yaml naming it: the port and the environment."""
    port = free_port()
    (tmp_path / "served.yaml").write_text(SERVED)
    (tmp_path / "teams.yaml").write_text(CLIENT.replace("PORT", str(port)))
    server = subprocess.Popen([str(BIN), "sandbox", "serve", "-f", "served.yaml", "--port", str(port)],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/_emulator/log")
        yield port, dict(os.environ, KRISP_API_KEY="sandbox-key", KRISP_SECRET="sandbox-secret")
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_plan_and_apply_over_real_http(tmp_path):
    with served(tmp_path) as (port, env):
        plan = subprocess.run([str(BIN), "plan", "--detailed-exitcode"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)
        assert plan.returncode == 2, plan.stdout + plan.stderr
        assert "+ member[erin@example.com]" in plan.stdout
        apply = subprocess.run([str(BIN), "-v", "apply", "--auto-approve"], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=60)
        assert apply.returncode == 0, apply.stdout + apply.stderr
        assert "GET http://127.0.0.1" in apply.stderr, "verbose logs each request"
        assert "sandbox-secret" not in apply.stdout + apply.stderr
        again = subprocess.run([str(BIN), "plan", "--detailed-exitcode"], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=60)
        assert again.returncode == 0, again.stdout
        log = httpx.get(f"http://127.0.0.1:{port}/_emulator/log").json()
        assert any(e["method"] == "POST" and e["path"].endswith("/team/invite") for e in log)


#: what a plan against a real service never needs: the emulators and their server, the retry
#: library (a first try needs none of it), the apply lock, the saved-plan reader
NOT_FOR_A_PLAN = ("starlette", "uvicorn", "tenacity", "filelock", "teamform.plan.planfile")


def test_a_plan_over_real_http_imports_nothing_only_apply_or_the_sandbox_needs(tmp_path):
    code = ("import sys\nfrom teamform.cli import main\nsys.argv = ['teamform', *sys.argv[1:]]\ntry:\n    main()\n"
            "except SystemExit:\n    pass\n"
            "print('LOADED', sorted(m for m in sys.modules if m.split('.')[-1] == 'emulator' or "
            f"m.split('.')[0] in {NOT_FOR_A_PLAN!r} or m in {NOT_FOR_A_PLAN!r}))")
    with served(tmp_path) as (_, env):
        plan = subprocess.run([sys.executable, "-c", code, "plan", "--detailed-exitcode"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)
    assert "+ member[erin@example.com]" in plan.stdout, plan.stdout + plan.stderr
    assert plan.stdout.rpartition("LOADED ")[2].strip() == "[]"
