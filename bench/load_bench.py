"""Loom under load: several ``loom serve`` processes and a ``loom worker`` on one database,
driven by a closed-loop client on loopback with a mixed workload — then the same with one
``loom serve``, in the same run, to show how it scales on this machine.

The app: ``request`` records (title, amount, stage); each created with an amount of at least
500,000 starts an approval flow whose one task goes to the admin and reminds after 10 s
(a timer the worker fires); each over 900,000 also sends a webhook (the worker delivers it
to a receiver in this process). Each client talks to one server (clients are spread over
the servers) and works on its own records, so every request has one right answer. Of every
10 requests: 2 creates, 3 reads, 2 lists (a stage, newest first, 50), 1 change with
``If-Match``, and 2 turns at the inbox — the open task of one of the client's records
awaiting approval (oldest first), then its approval with ``If-Match`` (both timed, as
``inbox`` and ``approve``); a client with nothing to approve lists its open tasks instead.

Reported per kind: count, requests per second, p50 and p99; every answer other than the
expected one is an error, printed, and fails the run. Sampled every few seconds: the
resident memory (RSS) of each process, and on PostgreSQL the connections open to the
database (``pg_stat_activity``). After the warm-up, a run fails if any process grew by 10%
or more, or if the open connections of its second half exceed those of its first half (both
judged only when at least 30 s are measured). The same tool is the soak test:

    python -m bench load
    LOOM_BENCH_LOAD_SECONDS=1800 LOOM_BENCH_LOAD_WARMUP=120 LOOM_BENCH_LOAD_SERVERS=2 \\
        python -m bench load                                   # the 30-minute soak

Settings (environment):
    LOOM_BENCH_DATABASE_URL  a PostgreSQL server (a scratch database is made there per
                             run); default SQLite files in a temporary folder
    LOOM_BENCH_LOAD_SECONDS  seconds measured per run, default 60
    LOOM_BENCH_LOAD_WARMUP   seconds of load before measuring, default 10
    LOOM_BENCH_LOAD_CLIENTS  concurrent clients, default 16
    LOOM_BENCH_LOAD_SERVERS  the ``loom serve`` counts to run in turn, default "3,1" on
                             PostgreSQL, "1" on SQLite (several wait on its one writer:
                             set "3,1" to see them answer 503 under load)
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench.api_bench import loom_command, loom_env, loom_serve
from bench.scratch import ADMIN, admin_actor, scratch_services
from loom.platform.security.tokens import issue_token
from loom.platform.services import Services
from loom.platform.storage.system_tables import outbox, timers

DATABASE_URL = os.environ.get("LOOM_BENCH_DATABASE_URL", "")
SECONDS = float(os.environ.get("LOOM_BENCH_LOAD_SECONDS", "60"))
WARMUP = float(os.environ.get("LOOM_BENCH_LOAD_WARMUP", "10"))
CLIENTS = int(os.environ.get("LOOM_BENCH_LOAD_CLIENTS", "16"))
# several servers on one SQLite file are not a deployment (one writer at a time): one there
SERVERS = [int(n) for n in os.environ.get("LOOM_BENCH_LOAD_SERVERS",
                                          "3,1" if DATABASE_URL else "1").split(",")]
MIX = ["create"] * 2 + ["get"] * 3 + ["list"] * 2 + ["update"] + ["approve"] * 2
STAGES = ["lead", "qualified", "proposal", "won", "lost"]
PRELOAD = 10                 # records per client before the clock starts
SAMPLE_EVERY = 5.0           # seconds between samples of memory and connections
JUDGED_FROM = 30.0           # growth is judged only on runs measuring at least this long
GROWTH_PERCENT = 10         # RSS growth after the warm-up that fails a run
APP = "/api/apps/load"


def app_doc(webhook_url: str) -> dict[str, Any]:
    text = {"zh-CN": "申请", "en": "Request"}
    return {
        "app": {"label": {"zh-CN": "负载", "en": "Load"}},
        "entities": {"request": {"label": text, "fields": {
            "title": {"type": "text", "label": {"zh-CN": "名称", "en": "Title"},
                      "required": True},
            "amount": {"type": "currency", "label": {"zh-CN": "金额", "en": "Amount"}},
            "stage": {"type": "select", "label": {"zh-CN": "阶段", "en": "Stage"},
                      "options": [{"value": s, "label": {"zh-CN": s, "en": s}}
                                  for s in STAGES]}}}},
        "flows": {"approval": {
            "label": {"zh-CN": "审批", "en": "Approval"}, "entity": "request",
            "start": {"on": "create", "condition": {">=": [{"var": "amount"}, 500_000]}},
            "nodes": {
                "review": {"type": "user_task", "label": {"zh-CN": "审批", "en": "Review"},
                           "assignees": [{"kind": "user", "user": ADMIN}],
                           "timers": [{"after": "PT10S", "action": "remind"}]},
                "done": {"type": "end", "outcome": "approved"}},
            "edges": [{"from": "start", "to": "review"},
                      {"from": "review", "to": "done", "outcome": "approve"}]}},
        "rules": {"large_request_webhook": {
            "label": {"zh-CN": "大额申请通知", "en": "Large requests call the webhook"},
            "entity": "request", "trigger": {"on": "create"},
            "condition": {">": [{"var": "amount"}, 900_000]},
            "actions": [{"type": "webhook", "url": webhook_url}]}},
    }


# --- the client ----------------------------------------------------------------------------

@dataclass
class Tally:
    """What one run's clients saw: latencies per kind (measured part only), and every
    unexpected answer."""

    measure_from: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)

    def record(self, kind: str, started: float, response: httpx.Response,
               expected: int) -> bool:
        if started >= self.measure_from:
            self.latencies[kind].append(time.perf_counter() - started)
        if response.status_code != expected:
            self.errors.append(f"{kind} {response.request.method} {response.request.url.path}"
                               f" → {response.status_code}: {response.text[:200]}")
            return False
        return True


@dataclass
class Client:
    """One closed-loop client: its server, its own records and their last versions, and
    its records awaiting approval, oldest first."""

    http: httpx.AsyncClient
    rng: random.Random
    tally: Tally
    etags: dict[int, str] = field(default_factory=dict)
    awaiting: list[int] = field(default_factory=list)

    async def create(self) -> None:
        amount = self.rng.randrange(1_000_000)
        started = time.perf_counter()
        response = await self.http.post(f"{APP}/records/request", json={
            "title": f"申请 {self.rng.randrange(10**6)}", "amount": f"{amount}.50",
            "stage": self.rng.choice(STAGES)})
        if self.tally.record("create", started, response, 201):
            record_id = response.json()["id"]
            self.etags[record_id] = response.headers["ETag"]
            if amount >= 500_000:
                self.awaiting.append(record_id)

    async def get(self) -> None:
        record_id = self.rng.choice(list(self.etags))
        started = time.perf_counter()
        response = await self.http.get(f"{APP}/records/request/{record_id}")
        if self.tally.record("get", started, response, 200):
            self.etags[record_id] = response.headers["ETag"]

    async def list(self) -> None:
        stage = self.rng.choice(STAGES)
        started = time.perf_counter()
        response = await self.http.get(f"{APP}/records/request", params={
            "filter": f'{{"==":[{{"var":"stage"}},"{stage}"]}}', "sort": "-id", "limit": "50"})
        self.tally.record("list", started, response, 200)

    async def update(self) -> None:
        record_id = self.rng.choice(list(self.etags))
        started = time.perf_counter()
        response = await self.http.patch(f"{APP}/records/request/{record_id}",
                                         json={"stage": self.rng.choice(STAGES)},
                                         headers={"If-Match": self.etags[record_id]})
        if self.tally.record("update", started, response, 200):
            self.etags[record_id] = response.headers["ETag"]

    async def approve(self) -> None:
        if not self.awaiting:
            started = time.perf_counter()
            response = await self.http.get(f"{APP}/tasks", params={
                "assignee": "me", "status": "open", "limit": "20"})
            self.tally.record("inbox", started, response, 200)
            return
        record_id = self.awaiting.pop(0)
        started = time.perf_counter()
        response = await self.http.get(f"{APP}/tasks", params={
            "entity": "request", "record": str(record_id), "status": "open"})
        if not self.tally.record("inbox", started, response, 200):
            return
        found = response.json()["items"]
        if len(found) != 1:
            self.tally.errors.append(f"inbox: record {record_id} has {len(found)} open tasks")
            return
        task = found[0]
        started = time.perf_counter()
        response = await self.http.post(f"{APP}/tasks/{task['id']}/actions",
                                        json={"action": "approve", "comment": "同意"},
                                        headers={"If-Match": f'"{task["version"]}"'})
        self.tally.record("approve", started, response, 200)


async def _client(client: Client, until: float) -> None:
    order = MIX[:]
    while True:
        client.rng.shuffle(order)
        for kind in order:
            if time.perf_counter() >= until:
                return
            await getattr(client, kind)()


# --- what is watched -----------------------------------------------------------------------

def rss_of(pid: int) -> int:
    """Resident memory of a process in bytes (Linux)."""
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Sample:
    at: float
    rss: dict[str, int]
    connections: int | None


async def _connections(database_url: str) -> asyncpg.Connection | None:
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        return None
    return await asyncpg.connect(url.set(drivername="postgresql")
                                 .render_as_string(hide_password=False))


async def _watch(processes: dict[str, subprocess.Popen[bytes]], database_url: str,
                 samples: list[Sample], until: float) -> None:
    probe = await _connections(database_url)
    try:
        while True:
            count = None
            if probe is not None:  # the probe's own connection is not counted
                count = await probe.fetchval(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            samples.append(Sample(time.perf_counter(), {
                name: rss_of(p.pid) for name, p in processes.items()}, count))
            if time.perf_counter() >= until:
                return
            await asyncio.sleep(min(SAMPLE_EVERY, max(0.0, until - time.perf_counter())))
    finally:
        if probe is not None:
            await probe.close()


class WebhookReceiver:
    """A local endpoint answering every POST with 204, counting the deliveries by their
    ``X-Loom-Delivery`` key."""

    def __init__(self) -> None:
        self.keys: Counter[str] = Counter()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                      ) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        headers = dict(line.split(": ", 1) for line in head.split("\r\n")[1:] if ": " in line)
        lowered = {name.lower(): value for name, value in headers.items()}
        await reader.readexactly(int(lowered.get("content-length", "0")))
        self.keys[lowered.get("x-loom-delivery", "")] += 1
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    async def start(self, port: int) -> asyncio.Server:
        return await asyncio.start_server(self._handle, "127.0.0.1", port)


# --- one run -------------------------------------------------------------------------------

@dataclass
class Outcome:
    servers: int
    tally: Tally
    samples: list[Sample]
    seconds: float
    queue: dict[str, int]
    webhooks: Counter[str]
    failures: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.tally.latencies.values())

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _prepare(services: Services, webhook_url: str) -> str:
    """The load app, and the admin's token."""
    async with services.database.write() as conn:
        actor = await admin_actor(conn)
        await services.apps.create(conn, actor, "load", app_doc(webhook_url))
        return await issue_token(conn, actor.user_id, services.clock, name="load")


async def _queue(services: Services) -> dict[str, int]:
    """The worker's side at the end: timers fired and pending, deliveries by state."""
    async with services.database.read() as conn:
        fired = await conn.scalar(select(func.count()).select_from(timers)
                                  .where(timers.c.status == "fired"))
        states = dict((await conn.execute(select(outbox.c.status, func.count())
                                           .group_by(outbox.c.status))).all())
    return {"timers fired": fired or 0, **{f"deliveries {k}": v for k, v in states.items()}}


def loom_worker(services: Services, folder: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(loom_command("worker", "--poll", "1"),
                            env={**os.environ, **loom_env(services, folder)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def run_once(servers: int) -> Outcome:
    async with scratch_services(DATABASE_URL) as (services, label):
        with tempfile.TemporaryDirectory() as folder:
            receiver = WebhookReceiver()
            hook_port = free_port()
            listening = await receiver.start(hook_port)
            token = await _prepare(services, f"http://127.0.0.1:{hook_port}/hooks")
            processes: dict[str, subprocess.Popen[bytes]] = {}
            try:
                ports = [free_port() for _ in range(servers)]
                for number, port in enumerate(ports):
                    processes[f"serve {number + 1}"] = loom_serve(services, Path(folder), port)
                processes["worker"] = loom_worker(services, Path(folder))
                print(f"{label}; {servers} × loom serve + loom worker; {CLIENTS} clients; "
                      f"{SECONDS:.0f} s after {WARMUP:.0f} s warm-up", flush=True)
                outcome = await _drive(services, processes, ports, token)
                await _drain(services)
                outcome.queue = await _queue(services)
                outcome.webhooks = receiver.keys
            finally:
                listening.close()
                for process in processes.values():
                    process.terminate()
                for process in processes.values():
                    process.wait(timeout=30)
    return outcome


async def _drive(services: Services, processes: dict[str, subprocess.Popen[bytes]],
                 ports: list[int], token: str) -> Outcome:
    servers = len(ports)
    rng = random.Random(servers)
    https = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[n % servers]}",
                               timeout=60, headers={"Authorization": f"Bearer {token}"})
             for n in range(CLIENTS)]
    try:
        start = time.perf_counter()
        tally = Tally(measure_from=start + 10**9)  # preloading is not measured
        clients = [Client(http, random.Random(rng.random()), tally) for http in https]
        for client in clients:
            for _ in range(PRELOAD):
                await client.create()
        start = time.perf_counter()
        tally.measure_from = start + WARMUP
        until = tally.measure_from + SECONDS
        samples: list[Sample] = []
        watcher = asyncio.create_task(_watch(processes, services.settings.resolved_database_url(),
                                             samples, until))
        await asyncio.gather(*[_client(client, until) for client in clients])
        await watcher
    finally:
        for http in https:
            await http.aclose()
    return Outcome(servers, tally, samples, SECONDS, {}, Counter())


async def _drain(services: Services, seconds: float = 60) -> None:
    """Give the worker time to deliver what the load queued."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        async with services.database.read() as conn:
            waiting = await conn.scalar(select(func.count()).select_from(outbox)
                                        .where(outbox.c.status == "pending"))
        if not waiting:
            return
        await asyncio.sleep(1)


# --- the report ----------------------------------------------------------------------------

def judge(outcome: Outcome) -> list[str]:
    """Why the run failed, if it did."""
    failures = [f"{len(outcome.tally.errors)} unexpected answers"] if outcome.tally.errors \
        else []
    repeated = [key for key, n in outcome.webhooks.items() if n > 1]
    if repeated:
        failures.append(f"{len(repeated)} webhooks delivered more than once")
    if outcome.queue.get("deliveries failed"):
        failures.append(f"{outcome.queue['deliveries failed']} deliveries failed")
    measured = [s for s in outcome.samples if s.at >= outcome.tally.measure_from]
    if outcome.seconds < JUDGED_FROM or len(measured) < 4:
        return failures
    first, last = measured[0], measured[-1]
    for name, rss in first.rss.items():
        if 100 * (last.rss[name] - rss) >= GROWTH_PERCENT * rss:
            failures.append(f"{name}: RSS grew {last.rss[name] / rss - 1:.0%} after warm-up")
    if first.connections is not None:
        half = len(measured) // 2
        early = max(s.connections or 0 for s in measured[:half])
        late = max(s.connections or 0 for s in measured[half:])
        if late > early:
            failures.append(f"open connections grew from {early} to {late}")
    return failures


def report(outcome: Outcome) -> None:
    print(f"{'kind':<8} {'count':>7} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}")
    for kind in ("create", "get", "list", "update", "inbox", "approve"):
        values = outcome.tally.latencies.get(kind, [])
        if values:
            print(f"{kind:<8} {len(values):>7} {len(values) / outcome.seconds:7.1f} "
                  f"{percentile(values, 0.5) * 1000:7.1f} "
                  f"{percentile(values, 0.99) * 1000:7.1f}")
    every = [v for values in outcome.tally.latencies.values() for v in values]
    print(f"{'all':<8} {len(every):>7} {outcome.rate:7.1f} {percentile(every, 0.5) * 1000:7.1f} "
          f"{percentile(every, 0.99) * 1000:7.1f}")
    print(f"errors: {len(outcome.tally.errors)}")
    for line in outcome.tally.errors[:20]:
        print(f"  {line}")
    measured = [s for s in outcome.samples if s.at >= outcome.tally.measure_from]
    if measured:
        first, last = measured[0], measured[-1]
        print("RSS after warm-up → end: " + "; ".join(
            f"{name} {first.rss[name] / 2**20:.0f} → {last.rss[name] / 2**20:.0f} MiB "
            f"({last.rss[name] / first.rss[name] - 1:+.1%})" for name in first.rss))
        if first.connections is not None:
            series = [s.connections for s in measured]
            print(f"open connections (every {SAMPLE_EVERY:.0f} s): min {min(series)}, "
                  f"max {max(series)}, first {series[0]}, last {series[-1]}")
    print("worker: " + ", ".join(f"{k} {v}" for k, v in sorted(outcome.queue.items()))
          + f"; webhooks received {sum(outcome.webhooks.values())} "
          f"({len(outcome.webhooks)} distinct)")
    verdict = "; ".join(outcome.failures) or "ok"
    print(f"verdict: {verdict}", flush=True)


async def run() -> bool:
    outcomes: list[Outcome] = []
    for servers in SERVERS:
        outcome = await run_once(servers)
        outcome.failures = judge(outcome)
        report(outcome)
        outcomes.append(outcome)
    if len(outcomes) > 1:
        base = outcomes[-1]
        for outcome in outcomes[:-1]:
            print(f"{outcome.servers} servers ÷ {base.servers}: throughput "
                  f"{outcome.rate / base.rate:.2f}", flush=True)
    return not any(outcome.failures for outcome in outcomes)


def main() -> None:
    if not asyncio.run(run()):
        raise SystemExit(1)
