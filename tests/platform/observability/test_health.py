"""Live and ready on both databases: ready needs the database, this Loom's schema and a
worker whose heartbeat is recent — and says which one is missing; administrators see each
worker's heartbeat."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from alembic import command
from fixture_kit import person, problem_of

from loom.platform import worker_heartbeat as heartbeat
from loom.platform.clock import FixedClock
from loom.platform.services import Services
from loom.platform.storage.migrate import alembic_config
from loom.platform.worker import Worker


async def ready(client: httpx.AsyncClient, status: int) -> dict[str, str]:
    response = await client.get("/api/health/ready")
    assert response.status_code == status, response.text
    return response.json()["checks"]


async def run_one_round(services: Services) -> None:
    """A worker as ``loom worker`` runs it, stopped once it has done a round."""
    stop = asyncio.Event()
    worker = asyncio.create_task(Worker(services).run(stop, poll_seconds=0.05))
    async with asyncio.timeout(60):
        while True:
            await asyncio.sleep(0.05)
            async with services.database.read() as conn:
                seen = (await conn.exec_driver_sql(
                    "SELECT rounds FROM worker_heartbeats")).scalar()
            if seen:
                break
    stop.set()
    await worker


async def test_ready_needs_a_worker_and_says_so(api: httpx.AsyncClient, services: Services,
                                                clock: FixedClock) -> None:
    assert (await api.get("/api/health/live")).json() == {"status": "alive"}
    assert await ready(api, 503) == {"database": "ok", "migrations": "current",
                                     "worker": "missing"}
    services.settings.ready_needs_worker = False
    assert (await ready(api, 200))["worker"] == "missing"
    services.settings.ready_needs_worker = True

    stop = asyncio.Event()
    running = asyncio.create_task(Worker(services).run(stop, poll_seconds=0.05))
    try:
        async with asyncio.timeout(60):
            while True:  # until its first heartbeat
                if (await api.get("/api/health/ready")).status_code == 200:
                    break
                await asyncio.sleep(0.05)
        assert (await ready(api, 200))["worker"] == "alive"
    finally:
        stop.set()
        await running
    assert (await ready(api, 503))["worker"] == "stopped"

    # a worker killed outright leaves its last heartbeat behind, which goes stale
    await heartbeat.beat(services.database, "worker-host:4242", clock.now(),
                         started_at=clock.now())
    assert (await ready(api, 200))["worker"] == "alive"
    clock.set(clock.now() + timedelta(seconds=services.settings.worker_stale_seconds + 1))
    assert (await ready(api, 503))["worker"] == "stale"

async def test_ready_says_when_the_schema_is_behind(api: httpx.AsyncClient,
                                                    services: Services) -> None:
    async with services.database.write() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), "-1"))
    checks = await ready(api, 503)
    assert checks["database"] == "ok" and checks["migrations"] == "behind"


async def test_administrators_see_the_workers(api: httpx.AsyncClient,
                                              services: Services) -> None:
    await run_one_round(services)
    response = await api.get("/api/admin/workers")
    assert response.status_code == 200, response.text
    [worker] = response.json()["items"]
    assert worker["status"] == "stopped" and worker["rounds"] >= 1
    assert worker["failed_rounds"] == 0 and worker["last_error"] is None
    assert set(worker["last_round"]) >= {"timers", "outbox", "jobs", "rules"}
    assert ":" in worker["worker"] and worker["round_at"] and worker["started_at"]
    assert response.json()["stale_after_seconds"] == 60

    _, headers = await person(api, services, "rep@example.com")
    refused = await api.get("/api/admin/workers", headers={**headers, "Accept-Language": "en"})
    problem_of(refused, 403)
