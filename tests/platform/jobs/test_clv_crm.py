"""The CRM template's ``clv`` job on both databases (CRM_TEMPLATE.md §6): it writes
``p_alive``, ``expected_purchases_90d``, ``expected_avg_spend`` and ``clv_12m`` onto the
customers, and the template puts them to work — the customers dashboard's CLV figure,
distribution and top customers, and the "who to call next" view."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
from clv_app import simulated_orders

CRM = "/api/apps/crm"
FIELDS = ("p_alive", "expected_purchases_90d", "expected_avg_spend", "clv_12m", "clv_as_of")


def widget(body: dict[str, Any], name: str) -> dict[str, Any]:
    return next(w for w in body["widgets"] if w["name"] == name)


async def _all(api: httpx.AsyncClient, path: str) -> list[dict[str, Any]]:
    found, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        response = await api.get(path, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return found


async def test_the_template_predicts_and_shows_customer_value(api: httpx.AsyncClient) -> None:
    api.headers["Accept-Language"] = "en"
    created = await api.post("/api/apps", json={"slug": "crm", "template": "crm"})
    assert created.status_code == 201, created.text
    response = await api.post(f"{CRM}/records/customer/_bulk", json=[
        {"code": f"K{i:03d}", "name": f"客户{i:03d}", "tag": "formal"} for i in range(120)])
    assert response.status_code == 201, response.text
    ids = [item["id"] for item in response.json()["items"]]
    orders = simulated_orders(ids, seed=21)
    for order in orders:  # B2B orders: a hundred times the simulated spend
        order["amount"] = str(Decimal(order["amount"]) * 100)
    for start in range(0, len(orders), 500):
        response = await api.post(f"{CRM}/records/order/_bulk", json=orders[start:start + 500])
        assert response.status_code == 201, response.text

    run = await api.post(f"{CRM}/jobs/clv/run", json={"as_of": "1998-07-01"})
    assert run.status_code == 200, run.text
    found = run.json()
    assert found["status"] == "done" and found["counts"]["failed"] == 0
    for name in ("r", "alpha", "a", "b", "log_likelihood"):
        assert name in found["result"]["bg_nbd"]
    for name in ("p", "q", "gamma", "log_likelihood"):
        assert name in found["result"]["gamma_gamma"]
    # no rule or flow of the template watches the predictions: all written set-based
    assert found["counts"]["set_based"] == found["counts"]["changed"] == \
        found["counts"]["scored"]

    customers = await _all(api, f"{CRM}/records/customer")
    valued = [c for c in customers if c["clv_12m"] is not None]
    assert len(valued) == found["counts"]["scored"]
    assert all(c[name] is not None for c in valued for name in FIELDS)
    assert {c["clv_as_of"] for c in valued} == {"1998-07-01"}

    listed = await api.get(f"{CRM}/jobs")
    assert "clv" in {job["name"] for job in listed.json()["items"]}

    board = await api.get(f"{CRM}/dashboards/customers")
    assert board.status_code == 200, board.text
    body = json.loads(board.text, parse_float=Decimal)
    clv = [Decimal(str(c["clv_12m"])) for c in valued]
    average = widget(body, "customer_lifetime_value")["value"]
    assert abs(average - sum(clv) / len(clv)) < Decimal("0.01")
    bands = widget(body, "clv_distribution")["rows"]
    assert [row["label"] for row in bands] == [
        "< 10000", "10000–50000", "50000–100000", "100000–200000", "200000–500000",
        "≥ 500000"]
    edges = [Decimal(0), Decimal(10000), Decimal(50000), Decimal(100000), Decimal(200000),
             Decimal(500000), Decimal("Infinity")]
    for row, low, high in zip(bands, edges, edges[1:], strict=False):
        inside = [value for value in clv if (low if low else Decimal("-Infinity")) <= value < high]
        assert row["values"]["customers"] == len(inside), row
        assert row["values"]["clv"] == sum(inside, Decimal(0)), row
    assert sum(row["values"]["customers"] for row in bands) == len(valued)
    assert sum(1 for row in bands if row["values"]["customers"]) >= 3  # a spread, not a lump
    top = widget(body, "top_customers_by_clv")["rows"]
    best = sorted(valued, key=lambda c: Decimal(str(c["clv_12m"])), reverse=True)[:10]
    assert [row["label"] for row in top] == [c["name"] for c in best]

    calls = await _all(api, f"{CRM}/views/customers_to_call_next")
    wanted = [c for c in valued if Decimal(str(c["p_alive"])) >= Decimal("0.5")
              and Decimal(str(c["expected_purchases_90d"])) >= 1]
    assert wanted, "the simulated customers include some to call"
    assert {c["id"] for c in calls} == {c["id"] for c in wanted}
    expected = [Decimal(str(c["expected_purchases_90d"])) for c in calls]
    assert expected == sorted(expected, reverse=True)
