"""`teamform sandbox serve` over real HTTP on loopback, driven by the real provider."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

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


def test_plan_and_apply_over_real_http(tmp_path):
    port = free_port()
    (tmp_path / "served.yaml").write_text(SERVED)
    (tmp_path / "teams.yaml").write_text(CLIENT.replace("PORT", str(port)))
    server = subprocess.Popen([str(BIN), "sandbox", "serve", "-f", "served.yaml", "--port", str(port)],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    env = dict(os.environ, KRISP_API_KEY="sandbox-key", KRISP_SECRET="sandbox-secret")
    try:
        wait_for(f"http://127.0.0.1:{port}/_emulator/log")
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
    finally:
        server.terminate()
        server.wait(timeout=10)
