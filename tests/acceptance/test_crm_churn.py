"""The churn warning of CRM_TEMPLATE.md §2 (流失预警): no order for three months, or
complaints piling up, raise a warning task for the customer's owner; a new order clears the
warning and closes the task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crm_world import World

DAY = timedelta(days=1)


def at_eight(day: str) -> datetime:
    """08:01 in Shanghai on ``day``, just after the daily churn check."""
    return datetime.fromisoformat(f"{day}T08:01:00+08:00").astimezone(UTC)


async def churn_tasks(world: World, status: str = "open") -> list[str]:
    # (the nightly RFM job runs too as time passes, and has tasks of its own to give)
    return [t["title"] for t in await world.tasks("zhang", status)
            if t["entity"] == "customer" and t["title"].startswith("流失预警")]


async def test_three_months_without_an_order_warns_the_owner_and_a_new_order_clears_it(
        world: World) -> None:
    quiet = await world.create("customer", {"name": "温州瑞丰鞋业有限公司",
                                            "owner": world.id("zhang"), "tag": "formal"})
    busy = await world.create("customer", {"name": "嘉兴恒通纺织有限公司",
                                           "owner": world.id("zhang"), "tag": "formal"})
    for customer, day in ((quiet, "2026-07-20"), (quiet, "2026-08-01"), (busy, "2026-10-20")):
        await world.create("order", {"customer": customer["id"], "order_date": day,
                                     "amount": 12800}, by="finance")
    assert (await world.get("customer", quiet["id"]))["last_order_date"] == "2026-08-01"

    await world.at(at_eight("2026-11-03"))  # 94 days after the last order

    assert (await world.get("customer", quiet["id"]))["churn_risk"] is True
    assert (await world.get("customer", busy["id"]))["churn_risk"] is False
    assert await churn_tasks(world) == ["流失预警：温州瑞丰鞋业有限公司"]

    await world.create("order", {"customer": quiet["id"], "order_date": "2026-11-03",
                                 "amount": 5600}, by="finance")

    assert (await world.get("customer", quiet["id"]))["churn_risk"] is False
    assert await churn_tasks(world) == []
    assert await churn_tasks(world, "done") == ["流失预警：温州瑞丰鞋业有限公司"]
    await world.at(at_eight("2026-11-04"))
    assert await churn_tasks(world) == []


async def test_complaints_piling_up_warn_the_owner(world: World) -> None:
    customer = await world.create("customer", {"name": "台州新锐汽配有限公司",
                                               "owner": world.id("zhang"), "tag": "formal"})
    await world.create("order", {"customer": customer["id"], "order_date": "2026-10-28",
                                 "amount": 30000}, by="finance")
    for subject in ("发货延迟", "配件型号错误"):
        await world.create("ticket", {"subject": subject, "customer": customer["id"],
                                      "channel": "phone", "type": "complaint",
                                      "priority": "p3"})

    await world.at(at_eight("2026-11-03"))

    assert (await world.get("customer", customer["id"]))["churn_risk"] is True
    assert await churn_tasks(world) == ["流失预警：台州新锐汽配有限公司"]
