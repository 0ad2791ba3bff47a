"""The app ``shop`` for job tests: customers, their orders, and an RFM job over them —
built here, not taken from the CRM template, so each test says which rules it adds."""

from __future__ import annotations

import copy
from typing import Any

import httpx

APP = "/api/apps/shop"
RECORDS = f"{APP}/records"
TIERS = ["important_value", "important_develop", "important_keep", "important_retain",
         "general_value", "general_develop", "general_keep", "general_retain"]
TIER_NAMES = {"high_r,high_f,high_m": "important_value",
              "high_r,low_f,high_m": "important_develop",
              "low_r,high_f,high_m": "important_keep",
              "low_r,low_f,high_m": "important_retain",
              "high_r,high_f,low_m": "general_value",
              "high_r,low_f,low_m": "general_develop",
              "low_r,high_f,low_m": "general_keep",
              "low_r,low_f,low_m": "general_retain"}

RFM_JOB: dict[str, Any] = {
    "kind": "rfm", "label": {"zh-CN": "RFM 分层", "en": "RFM tiers"},
    "subject": "customer",
    "events": {"entity": "order", "link": "customer", "date": "order_date",
               "amount": "amount"},
    "schedule": {"cron": "0 2 * * *", "timezone": "Asia/Shanghai"},
    "scores": {"method": "quintile", "recency": "rfm_r", "frequency": "rfm_f",
               "monetary": "rfm_m"},
    "values": {"recency_days": "recency_days", "frequency": "frequency",
               "monetary": "monetary"},
    "tiers": {"field": "rfm_tier", "split": "mean", "names": TIER_NAMES},
    "last_event_field": "last_order_date",
    "as_of_field": "rfm_as_of",
}

SHOP: dict[str, Any] = {
    "app": {"label": {"zh-CN": "商店", "en": "Shop"}},
    "entities": {
        "customer": {"label": {"zh-CN": "客户", "en": "Customer"}, "fields": {
            "code": {"type": "text", "unique": True},
            "owner": {"type": "user"},
            "service_level": {"type": "select", "options": [{"value": "standard"},
                                                            {"value": "vip"}]},
            "rfm_r": {"type": "integer"}, "rfm_f": {"type": "integer"},
            "rfm_m": {"type": "integer"},
            "rfm_tier": {"type": "select", "options": [{"value": t} for t in TIERS]},
            "recency_days": {"type": "integer"}, "frequency": {"type": "integer"},
            "monetary": {"type": "currency"},
            "last_order_date": {"type": "date"}, "rfm_as_of": {"type": "date"}}},
        "order": {"label": {"zh-CN": "订单", "en": "Order"}, "fields": {
            "customer": {"type": "lookup", "ref": "customer", "required": True},
            "order_date": {"type": "date", "required": True},
            "amount": {"type": "currency", "required": True}}},
    },
    "jobs": {"rfm": RFM_JOB},
}


def shop_app(*, job: dict[str, Any] | None = None, rules: dict[str, Any] | None = None,
             flows: dict[str, Any] | None = None) -> dict[str, Any]:
    doc = copy.deepcopy(SHOP)
    if job is not None:
        doc["jobs"]["rfm"] = job
    doc["rules"] = rules or {}
    doc["flows"] = flows or {}
    return doc


async def publish(api: httpx.AsyncClient, **parts: Any) -> None:
    response = await api.post("/api/apps", json={"slug": "shop", "metadata": shop_app(**parts)})
    assert response.status_code == 201, response.text


async def bulk(api: httpx.AsyncClient, entity: str, items: list[dict[str, Any]], *,
               app: str = APP) -> list[dict[str, Any]]:
    created = []
    for start in range(0, len(items), 500):
        response = await api.post(f"{app}/records/{entity}/_bulk",
                                  json=items[start:start + 500])
        assert response.status_code == 201, response.text
        created += response.json()["items"]
    return created


async def customers(api: httpx.AsyncClient) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1000, "sort": "id"}
        if cursor:
            params["cursor"] = cursor
        response = await api.get(f"{RECORDS}/customer", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found.update({item["id"]: item for item in page["items"]})
        cursor = page["next_cursor"]
        if not cursor:
            return found


async def run(api: httpx.AsyncClient, as_of: str | None = None, *,
              headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"as_of": as_of} if as_of else {}
    return await api.post(f"{APP}/jobs/rfm/run", json=body, headers=headers or {})
