"""The worker runs a scheduled job once per due time (its cron read in the job's time
zone), as of the tick's local date; never twice, not before it is due, on both
databases. The clock stands at 2026-11-02T01:30Z, 09:30 in Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from shop_app import APP, RFM_JOB, bulk, customers, publish
from sqlalchemy import select

from loom.platform.services import Services
from loom.platform.storage.system_tables import job_runs
from loom.platform.worker import Worker


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def jobs_done(services: Services, moment: datetime) -> int:
    return (await Worker(services).run_once(moment)).done["jobs"]


async def test_a_scheduled_job_runs_once_per_due_time(api: httpx.AsyncClient,
                                                      services: Services) -> None:
    await publish(api, job={**RFM_JOB, "schedule": {"cron": "0 2 * * *",
                                                    "timezone": "Asia/Shanghai"}})
    (customer,) = await bulk(api, "customer", [{"code": "C1"}])
    await bulk(api, "order", [{"customer": customer["id"], "order_date": "2026-10-30",
                               "amount": "10.00"}])
    # 02:00 Shanghai on Nov 2 is 18:00Z on Nov 1: due at 09:30 Shanghai, as of Nov 2
    assert await jobs_done(services, at("2026-11-02T09:30:00+08:00")) == 1
    assert await jobs_done(services, at("2026-11-02T09:30:00+08:00")) == 0
    assert await jobs_done(services, at("2026-11-02T23:59:00+08:00")) == 0
    record = (await customers(api))[customer["id"]]
    assert record["rfm_as_of"] == "2026-11-02" and record["recency_days"] == 3
    # the next night's tick runs again, as of its own date
    assert await jobs_done(services, at("2026-11-03T02:00:00+08:00")) == 1
    assert (await customers(api))[customer["id"]]["recency_days"] == 4
    async with services.database.read() as conn:
        rows = (await conn.execute(select(job_runs.c.trigger, job_runs.c.slot,
                                          job_runs.c.as_of, job_runs.c.status)
                                   .order_by(job_runs.c.id))).all()
    assert [(r.trigger, r.slot, r.as_of.isoformat(), r.status) for r in rows] == [
        ("schedule", "2026-11-01T18:00:00Z", "2026-11-02", "done"),
        ("schedule", "2026-11-02T18:00:00Z", "2026-11-03", "done")]
    runs = (await api.get(f"{APP}/jobs/rfm/runs")).json()["items"]
    assert [r["trigger"] for r in runs] == ["schedule", "schedule"]


async def test_jobs_without_a_schedule_or_disabled_wait_for_a_person(
        api: httpx.AsyncClient, services: Services) -> None:
    job = {key: value for key, value in RFM_JOB.items() if key != "schedule"}
    await publish(api, job=job)
    assert await jobs_done(services, at("2026-11-02T09:30:00+08:00")) == 0
    disabled = {**RFM_JOB, "enabled": False}
    response = await api.put("/api/apps/shop/metadata/draft",
                             json={**(await api.get("/api/apps/shop/metadata")).json(),
                                   "jobs": {"rfm": disabled}})
    assert response.status_code in (200, 204), response.text
    assert (await api.post("/api/apps/shop/metadata/publish", json={})).status_code in (200,
                                                                                        201)
    assert await jobs_done(services, at("2026-11-02T09:30:00+08:00")) == 0
