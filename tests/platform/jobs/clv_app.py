"""The ``shop`` app with a ``clv`` job beside its RFM job, and purchases drawn from the
BG/NBD and Gamma-Gamma processes themselves (so a fit has something true to find)."""

from __future__ import annotations

import copy
import math
import random
from datetime import date, timedelta
from typing import Any

import httpx
from shop_app import SHOP, bulk

APP = "/api/apps/shop"
AS_OF = date(1998, 7, 1)
START = date(1997, 7, 1)
CLV_FIELDS = {"p_alive": {"type": "decimal", "scale": 4, "min": 0, "max": 1},
              "expected_purchases": {"type": "decimal", "scale": 4},
              "expected_spend": {"type": "currency"}, "clv": {"type": "currency"},
              "clv_as_of": {"type": "date"}}
CLV_JOB: dict[str, Any] = {
    "kind": "clv", "label": {"zh-CN": "客户终身价值", "en": "Customer lifetime value"},
    "subject": "customer",
    "events": {"entity": "order", "link": "customer", "date": "order_date",
               "amount": "amount"},
    "predictions": {"p_alive": "p_alive", "expected_purchases": "expected_purchases",
                    "expected_spend": "expected_spend", "clv": "clv"},
    "as_of_field": "clv_as_of",
}
WRITTEN = ("p_alive", "expected_purchases", "expected_spend", "clv", "clv_as_of")


def clv_app(*, job: dict[str, Any] | None = None,
            rules: dict[str, Any] | None = None) -> dict[str, Any]:
    doc = copy.deepcopy(SHOP)
    doc["entities"]["customer"]["fields"].update(copy.deepcopy(CLV_FIELDS))
    doc["jobs"]["clv"] = job or copy.deepcopy(CLV_JOB)
    doc["rules"] = rules or {}
    return doc


async def publish(api: httpx.AsyncClient, **parts: Any) -> None:
    response = await api.post("/api/apps", json={"slug": "shop", "metadata": clv_app(**parts)})
    assert response.status_code == 201, response.text


def simulated_orders(customer_ids: list[int], seed: int) -> list[dict[str, Any]]:
    """Each customer's first purchase in the first half year, then purchases at a Poisson
    rate λ ~ Gamma(0.5, 1/4 weeks) until they drop out (p ~ Beta(1, 3) after each), with
    spend ~ Gamma(p=5, ν) around their own mean; a few customers buy only after AS_OF."""
    rng = random.Random(seed)
    orders = []
    for index, customer in enumerate(customer_ids):
        if index % 13 == 5:
            orders.append({"customer": customer, "order_date": "1998-08-01",
                           "amount": "30.00"})
            continue
        rate = rng.gammavariate(0.5, 1 / 4) / 7  # per day
        drop = rng.betavariate(1, 3)
        nu = rng.gammavariate(4, 1 / 60)
        day = START + timedelta(days=rng.randrange(180))
        while day <= AS_OF + timedelta(days=60):
            amount = max(rng.gammavariate(5, 1 / nu), 1.0)
            orders.append({"customer": customer, "order_date": day.isoformat(),
                           "amount": f"{amount:.2f}"})
            if rng.random() < drop or rate <= 0:
                break
            day += timedelta(days=max(1, math.ceil(min(rng.expovariate(rate), 1000))))
    return orders


async def shop_with_orders(api: httpx.AsyncClient, count: int, seed: int = 3, **parts: Any
                           ) -> tuple[list[int], list[dict[str, Any]]]:
    await publish(api, **parts)
    made = await bulk(api, "customer", [{"code": f"C{i:04d}"} for i in range(count)])
    ids = [record["id"] for record in made]
    orders = simulated_orders(ids[:-3], seed)  # the last three never buy
    await bulk(api, "order", orders)
    return ids, orders


async def run_clv(api: httpx.AsyncClient, as_of: date = AS_OF, *,
                  headers: dict[str, str] | None = None) -> httpx.Response:
    return await api.post(f"{APP}/jobs/clv/run", json={"as_of": as_of.isoformat()},
                          headers=headers or {})
