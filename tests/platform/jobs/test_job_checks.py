"""Static checks refuse bad job metadata at publish, every problem at once, each naming
its path in words a user reads."""

from __future__ import annotations

import copy

import httpx
from shop_app import RFM_JOB, shop_app


def _problems(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["field"]: e["message"] for e in response.json()["errors"]}


async def test_bad_job_metadata_is_refused_with_readable_errors(
        api: httpx.AsyncClient) -> None:
    job = copy.deepcopy(RFM_JOB)
    job["events"] = {"entity": "order", "link": "order_date", "date": "amount",
                     "amount": "nothing"}
    job["schedule"] = {"cron": "every night", "timezone": "Mars/Olympus"}
    job["scores"]["recency"] = "rfm_tier"
    job["scores"]["frequency"] = "missing"
    job["tiers"]["names"] = {**job["tiers"]["names"], "high_r,high_f,high_m": "platinum",
                             "sort_of_high": "important_value"}
    del job["tiers"]["names"]["low_r,low_f,low_m"]
    job["last_event_field"] = "rfm_m"
    response = await api.post("/api/apps", json={"slug": "shop",
                                                 "metadata": shop_app(job=job)},
                              headers={"Accept-Language": "en"})
    problems = _problems(response)
    path = "jobs.rfm"
    assert problems[f"{path}.schedule.cron"] == (
        "'every night' is not a cron schedule of five fields, such as '0 2 * * *'")
    assert "Mars/Olympus" in problems[f"{path}.schedule.timezone"]
    assert problems[f"{path}.events.link"] == "'order_date' on order must be a lookup to " \
        "customer"
    assert "'amount' on order is currency" in problems[f"{path}.events.date"]
    assert problems[f"{path}.events.amount"] == "there is no field 'nothing' on order"
    assert "'rfm_tier' on customer is select" in problems[f"{path}.scores.recency"]
    assert problems[f"{path}.scores.frequency"] == "there is no field 'missing' on customer"
    assert problems[f"{path}.tiers.names.high_r,high_f,high_m"] == \
        "'platinum' is not an option of 'rfm_tier' on customer"
    assert "is not a tier combination" in problems[f"{path}.tiers.names.sort_of_high"]
    assert problems[f"{path}.tiers.names"] == "no tier is named for low_r,low_f,low_m"
    assert "'rfm_m' on customer is integer" in problems[f"{path}.last_event_field"]


async def test_missing_entities_and_unknown_kinds(api: httpx.AsyncClient) -> None:
    job = {**copy.deepcopy(RFM_JOB), "subject": "client"}
    problems = _problems(await api.post(
        "/api/apps", json={"slug": "shop", "metadata": shop_app(job=job)},
        headers={"Accept-Language": "zh-CN"}))
    assert problems["jobs.rfm.subject"] == "此应用中没有实体“client”"
    other = {**copy.deepcopy(RFM_JOB), "kind": "magic"}
    response = await api.post("/api/apps", json={"slug": "shop",
                                                 "metadata": shop_app(job=other)})
    assert response.status_code == 422
    assert any(e["field"].startswith("jobs.rfm") for e in response.json()["errors"])
    window = {**copy.deepcopy(RFM_JOB), "window_days": 0}
    response = await api.post("/api/apps", json={"slug": "shop",
                                                 "metadata": shop_app(job=window)})
    assert response.status_code == 422
    assert any(e["field"] == "jobs.rfm.window_days" for e in response.json()["errors"])
