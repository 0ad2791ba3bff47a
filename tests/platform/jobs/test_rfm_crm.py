"""The CRM template's RFM job on both databases: the tier lands on customers and the
template's tier rules and care flow react to it, for the changed customers only — VIP
service and its task for important-value customers, the care flow for those at risk —
while changes nobody watches are written set-based."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from loom.platform.services import Services
from loom.platform.storage.system_tables import flow_instances, tasks

CRM = "/api/apps/crm"

# as of 1998-07-01, mean R = 108.6 days, mean F = 1.8, mean M = 2204
ORDERS = {
    "A": [("1998-06-30", "1000"), ("1998-06-29", "1000"), ("1998-06-28", "1000")],
    "B": [("1998-01-01", "1000"), ("1998-01-02", "1000"), ("1998-01-03", "1000")],
    "C": [("1998-01-01", "5000")],
    "D": [("1998-06-30", "10")],
    "E": [("1998-01-01", "10")],
}
TIERS = {"A": "important_value", "B": "important_keep", "C": "important_retain",
         "D": "general_develop", "E": "general_retain"}


async def _crm_with_customers(api: httpx.AsyncClient) -> tuple[dict[str, int], int]:
    created = await api.post("/api/apps", json={"slug": "crm", "template": "crm"})
    assert created.status_code == 201, created.text
    owner = await api.post("/api/users", json={"email": "owner@example.com",
                                               "name": "张伟", "password": "long-password-1"})
    assert owner.status_code == 201, owner.text
    owner_id = owner.json()["id"]
    ids = {}
    for code in ORDERS:
        response = await api.post(f"{CRM}/records/customer", json={
            "code": code, "name": f"客户{code}", "tag": "formal", "owner": owner_id})
        assert response.status_code == 201, response.text
        ids[code] = response.json()["id"]
    orders = [{"customer": ids[code], "order_date": day, "amount": amount}
              for code, items in ORDERS.items() for day, amount in items]
    response = await api.post(f"{CRM}/records/order/_bulk", json=orders)
    assert response.status_code == 201, response.text
    return ids, owner_id


async def _customer(api: httpx.AsyncClient, record_id: int) -> dict[str, Any]:
    response = await api.get(f"{CRM}/records/customer/{record_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def test_tier_rules_and_care_flow_fire_for_changed_customers(
        api: httpx.AsyncClient, services: Services) -> None:
    ids, owner_id = await _crm_with_customers(api)
    response = await api.post(f"{CRM}/jobs/rfm/run", json={"as_of": "1998-07-01"})
    assert response.status_code == 200, response.text
    run = response.json()
    assert run["counts"]["changed"] == 5
    assert run["counts"]["through_pipeline"] == 5  # every tier changed: rules watch it
    assert run["counts"]["failed"] == 0
    for code, tier in TIERS.items():
        assert (await _customer(api, ids[code]))["rfm_tier"] == tier, code

    vip = await _customer(api, ids["A"])
    assert vip["service_level"] == "vip" and "vip" in (vip["tags"] or [])
    async with services.database.read() as conn:
        found = (await conn.execute(select(tasks.c.record_id, tasks.c.title,
                                           tasks.c.assignee_id, tasks.c.source_rule)
                                    .where(tasks.c.entity == "customer")
                                    .order_by(tasks.c.id))).all()
        flows = (await conn.execute(select(flow_instances.c.record_id, flow_instances.c.flow,
                                           flow_instances.c.status)
                                    .where(flow_instances.c.entity == "customer")
                                    .order_by(flow_instances.c.record_id))).all()
    vip_tasks = [row for row in found if row.source_rule == "customer_vip_task"]
    assert [(row.record_id, row.assignee_id) for row in vip_tasks] == [(ids["A"], owner_id)]
    assert [(row.record_id, row.flow, row.status) for row in flows] == [
        (ids["B"], "customer_care", "running"), (ids["C"], "customer_care", "running")]

    history = (await api.get(f"{CRM}/audit", params={"entity": "customer",
                                                     "record": ids["A"]})).json()["items"]
    job_entries = [e for e in history if e["source"] == "job"]
    assert job_entries and job_entries[0]["changes"]["rfm_tier"] == [None, "important_value"]

    # a month on, recency grows for all, but no tier moves: no rule needs to see it, so
    # everything is written set-based, and nothing fires twice
    later = (await api.post(f"{CRM}/jobs/rfm/run", json={"as_of": "1998-07-08"})).json()
    assert later["counts"]["changed"] == 5
    assert later["counts"]["through_pipeline"] == 0, later["result"]["pipeline_because"]
    assert later["counts"]["set_based"] == 5
    assert (await _customer(api, ids["A"]))["rfm_recency_days"] == 8
    async with services.database.read() as conn:
        assert len((await conn.execute(select(tasks.c.id).where(
            tasks.c.source_rule == "customer_vip_task"))).all()) == 1

    listed = await api.get(f"{CRM}/jobs")
    assert listed.status_code == 200, listed.text
    jobs = {item["name"]: item for item in listed.json()["items"]}
    assert set(jobs) == {"rfm", "clv"}  # the template's two nightly jobs
    job = jobs["rfm"]
    assert job["schedule"]["cron"] == "0 2 * * *"
    assert jobs["clv"]["schedule"]["cron"] == "30 2 * * *" and jobs["clv"]["last_run"] is None
    assert job["last_run"]["as_of"] == "1998-07-08"
    runs = (await api.get(f"{CRM}/jobs/rfm/runs")).json()["items"]
    assert [r["as_of"] for r in runs] == ["1998-07-08", "1998-07-01"]
