"""Loom's records API against hand-written code for the same job, side by side in one run.

Two servers in their own processes on the same database server: ``loom serve`` with an app
holding one ``deal`` entity (title, amount, stage), and ``bench/handwritten_app.py`` (FastAPI
+ SQLAlchemy Core, one ``hw_deal`` table, the same bearer-token check against hashed tokens
and the same audit row in the same transaction). One closed-loop client mix drives each in
turn: of every 10 requests, 3 creates, 4 reads, 2 lists (a stage, newest first, 50) and
1 change with ``If-Match``. Reported: requests per second, p50 and p99, the server
process's CPU time per request, and the ratios Loom ÷ hand-written, at 1 and at 16
concurrent clients. On a shared machine the load drifts during a run: each measurement is
taken in rounds that alternate the two servers (ABBA…), so both see the same drift.

Target (issue: performance): Loom ≥ 0.8× the hand-written throughput at 1 and 16 clients,
and its p99 at 16 clients ≤ 1.5× the hand-written p99.

    python -m bench api

Settings (environment):
    LOOM_BENCH_DATABASE_URL  a PostgreSQL server (scratch databases are made there);
                             default SQLite files in a temporary folder
    LOOM_BENCH_API_SECONDS   seconds measured per run, default 20
    LOOM_BENCH_API_CLIENTS   the client counts, default "1,16"
    LOOM_BENCH_API_ROUNDS    alternating rounds the seconds are split into, default 4
    LOOM_BENCH_API_WARMUP    seconds of warm-up before each measurement, default 3
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from bench import handwritten_app
from bench.scratch import admin_actor, scratch_services
from loom.platform.security.tokens import digest, issue_token
from loom.platform.settings import async_database_url

DATABASE_URL = os.environ.get("LOOM_BENCH_DATABASE_URL", "")
SECONDS = float(os.environ.get("LOOM_BENCH_API_SECONDS", "20"))
CLIENTS = [int(n) for n in os.environ.get("LOOM_BENCH_API_CLIENTS", "1,16").split(",")]
ROUNDS = max(1, int(os.environ.get("LOOM_BENCH_API_ROUNDS", "4")))
WARMUP_SECONDS = float(os.environ.get("LOOM_BENCH_API_WARMUP", "3"))
MIX = ["create"] * 3 + ["read"] * 4 + ["list"] * 2 + ["change"]
STAGES = ["lead", "qualified", "proposal", "won", "lost"]
PRELOAD = 500

DOC = {"app": {"label": {"zh-CN": "基准", "en": "Bench"}},
       "entities": {"deal": {"label": {"zh-CN": "交易", "en": "Deal"}, "fields": {
           "title": {"type": "text", "label": {"zh-CN": "名称", "en": "Title"},
                     "required": True},
           "amount": {"type": "currency", "label": {"zh-CN": "金额", "en": "Amount"}},
           "stage": {"type": "select", "label": {"zh-CN": "阶段", "en": "Stage"},
                     "options": [{"value": s, "label": {"zh-CN": s, "en": s}}
                                 for s in STAGES]}}}}}


@dataclass
class Target:
    """How the client mix talks to one server."""

    name: str
    url: str
    token: str
    records: str                       # the deals' collection path
    list_params: Callable[[str], dict[str, str]]
    pid: int = 0                       # the server's process
    ids: list[int] = field(default_factory=list)
    etags: dict[int, str] = field(default_factory=dict)   # the last version seen


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0           # the server process's, all its threads

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def cpu_per_request_ms(self) -> float:
        return self.cpu_seconds * 1000 / max(1, len(self.latencies))

    def add(self, other: Run) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.seconds += other.seconds
        self.cpu_seconds += other.cpu_seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _one(client: httpx.AsyncClient, target: Target, kind: str,
               rng: random.Random) -> bool:
    if kind == "create":
        response = await client.post(target.records, json={
            "title": f"deal {rng.randrange(10**6)}", "amount": f"{rng.randrange(10**6)}.50",
            "stage": rng.choice(STAGES)})
        if response.status_code == 201:
            target.ids.append(record_id := response.json()["id"])
            target.etags[record_id] = response.headers["ETag"]
        return response.status_code == 201
    if kind == "read":
        record_id = rng.choice(target.ids)
        response = await client.get(f"{target.records}/{record_id}")
        target.etags[record_id] = response.headers.get("ETag", "")
        return response.status_code == 200
    if kind == "list":
        response = await client.get(target.records,
                                    params=target.list_params(rng.choice(STAGES)))
        return response.status_code == 200
    record_id = rng.choice(target.ids)
    response = await client.patch(f"{target.records}/{record_id}",
                                  json={"stage": rng.choice(STAGES)},
                                  headers={"If-Match": target.etags[record_id]})
    if response.status_code == 200:
        target.etags[record_id] = response.headers["ETag"]
    # another client changed it since this one last saw it: a fair refusal
    return response.status_code in (200, 409, 412)


async def _client(target: Target, seed: int, until: float, measure_from: float,
                  latencies: list[float], errors: list[int]) -> None:
    rng = random.Random(seed)
    order = MIX[:]
    async with httpx.AsyncClient(base_url=target.url, timeout=60, headers={
            "Authorization": f"Bearer {target.token}"}) as client:
        while True:
            rng.shuffle(order)
            for kind in order:
                started = time.perf_counter()
                if started >= until:
                    return
                ok = await _one(client, target, kind, rng)
                if started >= measure_from:
                    latencies.append(time.perf_counter() - started)
                    errors[0] += not ok


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(target: Target, clients: int, seconds: float = SECONDS,
                warmup: float = WARMUP_SECONDS, seed: int = 0) -> Run:
    latencies: list[float] = []
    errors = [0]
    start = time.perf_counter()
    measure_from = start + warmup
    until = measure_from + seconds
    cpu = [0.0]

    async def measure_cpu() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        cpu[0] = _cpu_seconds(target.pid)

    await asyncio.gather(measure_cpu(), *[
        _client(target, seed * 1000 + n, until, measure_from, latencies, errors)
        for n in range(clients)])
    return Run(latencies, errors[0], seconds, _cpu_seconds(target.pid) - cpu[0])


def _free_port() -> int:
    """A loopback port nothing listens on: a fixed one may be another run's server (two
    checkouts benchmarking at once), which would then answer this run's requests."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """``command`` started in its own process, once it answers on ``port``."""
    process = subprocess.Popen(command, env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{command[0]} did not start")


def loom_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("loom")), *args]


def loom_env(services: Any, folder: Path) -> dict[str, str]:
    """What a ``loom`` process of the benchmark needs: the scratch database, a data folder,
    quiet logs."""
    return {"LOOM_DATABASE_URL": services.settings.resolved_database_url(),
            "LOOM_DATA_DIR": str(folder / "loom-data"), "LOOM_FIRST_RUN": "blank",
            "LOOM_LOG_JSON": "true", "LOOM_LOG_LEVEL": "WARNING"}


def loom_serve(services: Any, folder: Path, port: int) -> subprocess.Popen[bytes]:
    """``loom serve`` on the scratch database, once it answers on ``port``."""
    return serve(loom_command("serve"), {**loom_env(services, folder), "LOOM_PORT": str(port)},
                 port)


async def _loom_target(services: Any, folder: Path,
                       port: int) -> tuple[Target, subprocess.Popen[bytes]]:
    async with services.database.write() as conn:
        actor = await admin_actor(conn)
        await services.apps.create(conn, actor, "bench", DOC)
        token = await issue_token(conn, actor.user_id, services.clock, name="bench")
    process = loom_serve(services, folder, port)
    return Target("Loom", f"http://127.0.0.1:{port}", token,
                  "/api/apps/bench/records/deal",
                  lambda stage: {"filter": f'{{"==":[{{"var":"stage"}},"{stage}"]}}',
                                 "sort": "-id", "limit": "50"}, process.pid), process


async def _baseline_target(url: str, port: int) -> tuple[Target, subprocess.Popen[bytes]]:
    process = serve([sys.executable, "-m", "uvicorn", "bench.handwritten_app:app",
                      "--port", str(port), "--log-level", "warning", "--no-access-log"],
                     {"BASELINE_DATABASE_URL": url}, port)
    token = "hw_" + os.urandom(16).hex()
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(handwritten_app.token.insert().values(hash=digest(token),
                                                                 user_id=1))
    await engine.dispose()
    return Target("hand-written", f"http://127.0.0.1:{port}", token, "/deals",
                  lambda stage: {"stage": stage, "limit": "50"}, process.pid), process


async def _preload(target: Target) -> None:
    async with httpx.AsyncClient(base_url=target.url, timeout=60, headers={
            "Authorization": f"Bearer {target.token}"}) as client:
        rng = random.Random(0)
        for _ in range(PRELOAD):
            assert await _one(client, target, "create", rng), f"{target.name}: create failed"


async def run() -> None:
    async with scratch_services(DATABASE_URL) as (services, label):
        with tempfile.TemporaryDirectory() as folder:
            loom_url = services.settings.resolved_database_url()
            baseline_url = (f"sqlite+aiosqlite:///{folder}/baseline.db" if not DATABASE_URL
                            else async_database_url(loom_url))
            loom, loom_process = await _loom_target(services, Path(folder), _free_port())
            baseline, baseline_process = await _baseline_target(baseline_url, _free_port())
            try:
                for target in (baseline, loom):
                    await _preload(target)
                print(f"{label}; {SECONDS:.0f} s per server and client count, in {ROUNDS} "
                      f"alternating rounds, after {WARMUP_SECONDS:.0f} s warm-up; load "
                      f"average {os.getloadavg()[0]:.1f}", flush=True)
                await _compare(baseline, loom)
            finally:
                for process in (loom_process, baseline_process):
                    process.terminate()
                    process.wait(timeout=15)


async def _compare(baseline: Target, loom: Target) -> None:
    print(f"{'clients':>7} {'server':<13} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'cpu ms':>7} {'errors':>6}")
    for clients in CLIENTS:
        runs = {baseline.name: Run(), loom.name: Run()}
        for target in (baseline, loom):  # warm-up, not measured
            await drive(target, clients, seconds=0.0)
        for round_ in range(ROUNDS):  # A B B A A B …: a drift of the load hits both alike
            for target in (baseline, loom) if round_ % 2 == 0 else (loom, baseline):
                runs[target.name].add(await drive(target, clients, SECONDS / ROUNDS,
                                                  warmup=0.0, seed=round_))
        load = os.getloadavg()[0]
        for target in (baseline, loom):
            result = runs[target.name]
            print(f"{clients:>7} {target.name:<13} {result.rate:7.0f} "
                  f"{result.percentile(0.5) * 1000:7.1f} {result.percentile(0.99) * 1000:7.1f} "
                  f"{result.cpu_per_request_ms:7.2f} {result.errors:>6}", flush=True)
        ours, theirs = runs["Loom"], runs["hand-written"]
        print(f"{'':>7} Loom ÷ hand-written: throughput {ours.rate / theirs.rate:.2f} "
              f"(target ≥ 0.80), p99 {ours.percentile(0.99) / theirs.percentile(0.99):.2f}"
              f"{' (target ≤ 1.50)' if clients > 1 else ''}, CPU per request "
              f"{ours.cpu_per_request_ms / theirs.cpu_per_request_ms:.2f}; load average "
              f"{load:.1f}", flush=True)


def main() -> None:
    asyncio.run(run())

