"""The RFM job's figures match an independent pandas computation over the same generated
orders, on both databases: ties (dates and amounts repeat on purpose), the look-back
window, the as-of cut-off, customers without orders (cleared), and a second run that
changes only what changed."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from rfm_reference import means, reference
from shop_app import RFM_JOB, bulk, customers, publish, run
from sqlalchemy import func, select

from loom.platform.services import Services
from loom.platform.storage.system_tables import record_audit

AS_OF = date(1998, 7, 1)
FIELDS = ("rfm_r", "rfm_f", "rfm_m", "rfm_tier", "recency_days", "frequency", "monetary",
          "last_order_date", "rfm_as_of")


def generated_orders(customer_ids: list[int], seed: int) -> list[dict[str, Any]]:
    """Orders with many ties: dates from a few weeks, amounts from a short list; some
    customers buy nothing, some only after the as-of date."""
    rng = random.Random(seed)
    amounts = ["19.90", "49.00", "99.99", "100.00", "250.50"]
    orders = []
    for index, customer in enumerate(customer_ids):
        if index % 9 == 0:
            continue  # no orders at all
        if index % 11 == 0:
            orders.append({"customer": customer, "order_date": "1998-07-15",
                           "amount": "10.00"})  # only after the as-of date
            continue
        for _ in range(rng.choice([1, 1, 1, 2, 3, 5])):
            day = AS_OF - timedelta(days=rng.choice([0, 1, 3, 7, 7, 30, 90, 200, 400]))
            orders.append({"customer": customer, "order_date": day.isoformat(),
                           "amount": rng.choice(amounts)})
    return orders


def as_written(record: dict[str, Any]) -> dict[str, Any]:
    values = {name: record[name] for name in FIELDS}
    if values["monetary"] is not None:
        values["monetary"] = str(Decimal(str(values["monetary"])).quantize(Decimal("0.01")))
    return values


async def _shop(api: httpx.AsyncClient, count: int, **parts: Any) -> list[int]:
    await publish(api, **parts)
    made = await bulk(api, "customer", [{"code": f"C{i:04d}"} for i in range(count)])
    return [record["id"] for record in made]


async def test_scores_and_tiers_match_an_independent_computation(
        api: httpx.AsyncClient, services: Services) -> None:
    ids = await _shop(api, 180)
    orders = generated_orders(ids, seed=7)
    await bulk(api, "order", orders)
    response = await run(api, AS_OF.isoformat())
    assert response.status_code == 200, response.text
    result = response.json()
    expected = reference(orders, ids, AS_OF)
    found = await customers(api)
    assert {i: as_written(found[i]) for i in ids} == expected

    scored = sum(1 for values in expected.values() if values["rfm_r"] is not None)
    assert result["status"] == "done" and result["as_of"] == "1998-07-01"
    assert result["counts"]["records"] == 180
    assert result["counts"]["scored"] == scored
    assert result["counts"]["changed"] == scored  # the others had nothing to clear
    assert result["counts"]["failed"] == 0
    wanted = means(orders, AS_OF)
    for name in ("recency", "frequency", "monetary"):
        assert abs(float(result["result"]["means"][name]) - wanted[name]) < 1e-3
    assert sum(result["result"]["tiers"].values()) == scored
    quintile_counts = [q["subjects"] for q in result["result"]["quintiles"]["recency"]]
    assert sum(quintile_counts) == scored
    assert result["duration_ms"] is not None

    # nothing changed: nothing is written, no audit entry, versions stay
    again = (await run(api, AS_OF.isoformat())).json()
    assert again["counts"]["changed"] == 0
    assert {i: r["version"] for i, r in (await customers(api)).items()} == \
        {i: r["version"] for i, r in found.items()}

    # a later date: recency moves for everyone with orders; those without stay untouched
    later = AS_OF + timedelta(days=30)
    third = (await run(api, later.isoformat())).json()
    assert {i: as_written(r) for i, r in (await customers(api)).items()} == \
        reference(orders, ids, later)
    assert third["counts"]["changed"] == sum(
        1 for v in reference(orders, ids, later).values() if v["rfm_r"] is not None)


async def test_window_and_cut_off_and_clearing(api: httpx.AsyncClient,
                                               services: Services) -> None:
    ids = await _shop(api, 60, job={**RFM_JOB, "window_days": 60})
    orders = generated_orders(ids, seed=11)
    await bulk(api, "order", orders)
    assert (await run(api, AS_OF.isoformat())).status_code == 200
    found = await customers(api)
    assert {i: as_written(found[i]) for i in ids} == reference(orders, ids, AS_OF, 60)

    # two years on, nobody ordered within 60 days: every score is cleared again
    cleared = (await run(api, (AS_OF + timedelta(days=730)).isoformat())).json()
    assert cleared["counts"]["scored"] == 0
    assert cleared["counts"]["cleared"] == cleared["counts"]["changed"] > 0
    assert all(as_written(r) == dict.fromkeys(FIELDS) for r in (await customers(api)).values())


async def test_every_change_is_audited_as_a_job_change(api: httpx.AsyncClient,
                                                       services: Services) -> None:
    ids = await _shop(api, 12)
    await bulk(api, "order", [{"customer": ids[1], "order_date": "1998-06-30",
                               "amount": "88.00"},
                              {"customer": ids[2], "order_date": "1998-05-01",
                               "amount": "12.50"}])
    result = (await run(api, AS_OF.isoformat())).json()
    assert result["counts"]["changed"] == 2
    history = await api.get("/api/apps/shop/audit", params={"entity": "customer",
                                                            "record": ids[1]})
    assert history.status_code == 200, history.text
    entries = history.json()["items"]
    assert [e["source"] for e in entries] == ["api", "job"]
    change = entries[-1]
    assert change["action"] == "update" and change["version"] == 2
    assert change["changes"]["rfm_tier"] == [None, "important_value"]
    assert change["changes"]["last_order_date"] == [None, "1998-06-30"]
    assert change["changes"]["recency_days"] == [None, 1]
    assert Decimal(str(change["changes"]["monetary"][1])) == Decimal("88.00")
    assert "code" not in change["changes"]
    record = (await api.get(f"/api/apps/shop/records/customer/{ids[1]}")).json()
    assert record["version"] == 2
    async with services.database.read() as conn:
        total = await conn.scalar(select(func.count()).select_from(record_audit).where(
            record_audit.c.source == "job"))
    assert total == 2
