"""A live ``loom serve`` in a process of its own, as people run it: for the tests that
need real HTTP and a server's own event loop (browser tests, concurrency under load)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from fixture_kit import ADMIN_EMAIL, ADMIN_PASSWORD


@dataclass
class ServerProcess:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_loom(database_url: str, data_dir: Path, *, extra_env: dict[str, str] | None = None,
               first_run: str | None = "blank") -> ServerProcess:
    """Start ``loom serve`` on a migrated ``database_url`` (whose first administrator is
    ``ADMIN_EMAIL``) and wait until it answers. ``first_run``: LOOM_FIRST_RUN (None: unset,
    the default behaviour)."""
    port = free_port()
    log = data_dir / "server.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LOOM_DATABASE_URL": database_url, "LOOM_DATA_DIR": str(data_dir),
           "LOOM_PORT": str(port), "LOOM_HOST": "127.0.0.1",
           "LOOM_ADMIN_EMAIL": ADMIN_EMAIL, "LOOM_ADMIN_PASSWORD": ADMIN_PASSWORD,
           **(extra_env or {})}
    env.pop("LOOM_FIRST_RUN", None)
    if first_run is not None:
        env["LOOM_FIRST_RUN"] = first_run
    loom = Path(sys.executable).with_name("loom")
    with log.open("wb") as sink:
        process = subprocess.Popen([str(loom), "serve"], env=env, stdout=sink,
                                   stderr=subprocess.STDOUT)
    server = ServerProcess(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"loom serve stopped: {server.output()}")
        try:
            if httpx.get(f"{server.url}/api/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"loom serve did not answer within 60 s: {server.output()}")
