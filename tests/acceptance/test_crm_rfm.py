"""RFM tiering of CRM_TEMPLATE.md §2 (客户分层): the nightly job scores every customer's
orders and sorts them into the eight tiers; important-value customers get VIP service and
a task for their owner, at-risk tiers start the care flow (a dedicated call for
important-keep, a win-back coupon for important-retain); the tier distribution is a
dashboard figure; an administrator reruns the job for any date, a sales rep may not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from crm_world import APP, World

# mean R ≈ 103.6 days, mean F = 1.8 orders, mean M = 22,040 as of 2026-11-20
ORDERS = {
    "杭州云帆科技有限公司": [("2026-11-18", 10000), ("2026-11-17", 10000), ("2026-11-16", 10000)],
    "苏州博远精密制造有限公司": [("2026-06-01", 10000), ("2026-06-02", 10000),
                                ("2026-06-03", 10000)],
    "无锡金诚化工有限公司": [("2026-06-01", 50000)],
    "常州青禾文具有限公司": [("2026-11-18", 100)],
    "南通锦程家居有限公司": [("2026-06-01", 100)],
}
TIERS = ["important_value", "important_keep", "important_retain", "general_develop",
         "general_retain"]

ALL_TIERS = ["important_value", "important_develop", "important_keep", "important_retain",
             "general_value", "general_develop", "general_keep", "general_retain"]


def shanghai(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+08:00").astimezone(UTC)


async def customers_with_orders(world: World) -> list[dict[str, Any]]:
    created = []
    for name, orders in ORDERS.items():
        customer = await world.create("customer", {"name": name, "owner": world.id("zhang"),
                                                   "tag": "formal"})
        for day, amount in orders:
            await world.create("order", {"customer": customer["id"], "order_date": day,
                                         "amount": amount}, by="finance")
        created.append(customer)
    return created


async def care_tasks(world: World) -> dict[int, list[str]]:
    """zhang's open tasks on customers by customer id, leaving out the churn warnings (the
    customers without an order since June get those too)."""
    found: dict[int, list[str]] = {}
    for task in await world.tasks("zhang"):
        if task["entity"] == "customer" and not task["title"].startswith("流失预警"):
            found.setdefault(task["record_id"], []).append(task["title"])
    return found


async def test_the_nightly_job_tiers_customers_and_the_tiers_drive_service(
        world: World) -> None:
    customers = await customers_with_orders(world)
    await world.at(shanghai("2026-11-20T02:05:00"))  # just after the 02:00 run

    scored = [await world.get("customer", c["id"], by="zhang") for c in customers]
    assert [c["rfm_tier"] for c in scored] == TIERS
    # ties share a score: 3 of 5 ordered longer ago, fewer times; 2 of 5 spent less
    assert (scored[0]["rfm_r"], scored[0]["rfm_f"], scored[0]["rfm_m"]) == (4, 4, 3)
    assert scored[0]["rfm_recency_days"] == 2 and scored[0]["rfm_as_of"] == "2026-11-20"
    vip = scored[0]
    assert vip["service_level"] == "vip" and "vip" in vip["tags"]
    assert "VIP 客户：杭州云帆科技有限公司" in await world.titles("service_lead")

    ids = [c["id"] for c in customers]
    assert await care_tasks(world) == {
        ids[0]: ["VIP 客户专属服务：杭州云帆科技有限公司"],
        ids[1]: ["专属客服回访"],  # important_keep: a dedicated service call
        ids[2]: ["发放挽留优惠券"],  # important_retain: a win-back coupon
    }

    # the coupon step of the care flow: zhang fills in the coupon and the flow ends
    [coupon] = [t for t in await world.tasks("zhang") if t["title"] == "发放挽留优惠券"]
    done = await world.task_act("zhang", coupon["id"], "complete",
                                values={"coupon_code": "WB-2026-1120",
                                        "care_notes": "电话联系采购经理，赠送九折券"})
    assert done.status_code == 200, done.text
    cared = await world.get("customer", customers[2]["id"], by="zhang")
    assert cared["coupon_code"] == "WB-2026-1120" and cared["last_care_at"]

    # the next night recency grows for everyone, no tier moves: nothing is given twice
    await world.at(shanghai("2026-11-21T02:05:00"))
    assert (await world.get("customer", customers[0]["id"]))["rfm_recency_days"] == 3
    assert sorted(await care_tasks(world)) == [ids[0], ids[1]]

    dashboard = await world.as_("director").get(f"/api/apps/{APP}/dashboards/customers")
    assert dashboard.status_code == 200, dashboard.text
    [tiers] = [w for w in dashboard.json()["widgets"] if w["name"] == "rfm_tiers"]
    counts = {row["key"]: next(iter(row["values"].values())) for row in tiers["rows"]}
    # every tier is a row, the empty ones too, so the chart keeps its eight bars
    assert counts == {**dict.fromkeys(ALL_TIERS, 0), **dict.fromkeys(TIERS, 1)}
    assert list(counts) == ALL_TIERS

    # the VIP list view is the service team's working list
    view = await world.as_("service_lead").get(
        f"/api/apps/{APP}/views/important_value_customers")
    assert view.status_code == 200, view.text
    assert [item["id"] for item in view.json()["items"]] == [customers[0]["id"]]


async def test_an_administrator_reruns_the_job_for_a_date_a_rep_may_not(world: World) -> None:
    customers = await customers_with_orders(world)

    refused = await world.as_("zhang").post(f"/api/apps/{APP}/jobs/rfm/run",
                                            json={"as_of": "2026-11-20"})
    assert refused.status_code == 403, refused.text
    assert (await world.get("customer", customers[0]["id"]))["rfm_tier"] is None

    run = await world.admin.post(f"/api/apps/{APP}/jobs/rfm/run", json={"as_of": "2026-11-20"})
    assert run.status_code == 200, run.text
    assert run.json()["counts"]["changed"] == len(ORDERS)
    assert [(await world.get("customer", c["id"]))["rfm_tier"] for c in customers] == TIERS

    # as of a date before any order, no one has a score and the tiers are cleared
    early = await world.admin.post(f"/api/apps/{APP}/jobs/rfm/run",
                                   json={"as_of": "2026-05-01"})
    assert early.status_code == 200, early.text
    assert [(await world.get("customer", c["id"]))["rfm_tier"] for c in customers] == [
        None] * len(ORDERS)
