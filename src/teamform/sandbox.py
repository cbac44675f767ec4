"""The sandbox: where each ``sandbox: true`` service's emulator keeps its state, and
`teamform sandbox serve`, every emulator on its own loopback port, for end-to-end tests over real
HTTP and for trying the CI workflows."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    import uvicorn

    from .config import Config

LOOPBACK = "127.0.0.1"
SANDBOX_DIR = Path(".teamform") / "sandbox"
SANDBOX_ORIGIN = "http://127.0.0.1"


def sandbox_store(sandbox_dir: Path, service: str, provider: str) -> Path:
    """Where a sandbox service keeps its emulator's state: per service and provider, so a service
    renamed onto another provider never reads the other emulator's file. Never outside the sandbox
    directory, whatever the name (the file's validation refuses such names first)."""
    path = sandbox_dir / (f"{service}.json" if service == provider else f"{service}.{provider}.json")
    if path.resolve().parent != sandbox_dir.resolve():
        raise ValueError(f"service name {service!r} would put sandbox state outside {sandbox_dir}")
    return path


def servers(config: "Config", first_port: int, sandbox_dir: Path = SANDBOX_DIR) -> list[tuple[str, str, "uvicorn.Server"]]:
    """(service, base URL, server) for every service whose provider has an emulator."""
    import uvicorn  # only this command serves over HTTP

    out = []
    port = first_port
    for svc in config.services.values():
        cls = svc.provider_cls
        if cls.emulator_class is None:
            continue
        emulator = cls.emulator_class(store=sandbox_store(sandbox_dir, svc.name, svc.provider))
        server = uvicorn.Server(uvicorn.Config(emulator, host=LOOPBACK, port=port, log_level="warning",
                                               lifespan="off"))
        out.append((svc.name, f"http://{LOOPBACK}:{port}", server))
        port += 1
    return out


async def serve(config: "Config", first_port: int, announce: Callable[[str], None]) -> None:
    running = servers(config, first_port)
    for name, url, _ in running:
        creds = config.services[name].provider_cls.emulator_class.sandbox_credentials  # type: ignore[union-attr]
        announce(f"{name}: {url}  (sandbox credentials: {', '.join(f'{k}={v}' for k, v in creds.items())})")
    announce("Point a service at one with `base_url: <url>` and `sandbox: false`. Ctrl-C stops.")
    await asyncio.gather(*(server.serve() for _, _, server in running))
