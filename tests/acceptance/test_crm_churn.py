"""The churn warning of CRM_TEMPLATE.md §2 (流失预警): no order for three months, a customer
the nightly CLV job finds unlikely to be still active, or complaints piling up, raise a
warning task for the customer's owner; a new order clears the warning and closes the task."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from crm_world import APP, World

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


async def test_a_customer_the_clv_job_finds_slipping_away_warns_the_owner(
        world: World) -> None:
    regulars = [await world.create("customer", {"name": f"常客{i:02d}", "tag": "formal",
                                                "owner": world.id("zhang")})
                for i in range(12)]
    fading = await world.create("customer", {"name": "宁波速达电子有限公司", "tag": "formal",
                                             "owner": world.id("zhang")})
    # twelve customers order every month; one ordered every other day all summer, then
    # stopped: only 65 days ago, so not "three months without an order" — but for a
    # customer who bought every other day, two silent months say they are likely gone
    orders = [{"customer": c["id"], "order_date": f"2026-{month:02d}-{10 + i % 10}",
               "amount": 8000 + 250 * i + 10 * month}
              for i, c in enumerate(regulars) for month in range(1, 11)]
    orders += [{"customer": fading["id"], "amount": 3000,
                "order_date": (date(2026, 7, 1) + timedelta(days=2 * k)).isoformat()}
               for k in range(31)]
    response = await world.admin.post(f"/api/apps/{APP}/records/order/_bulk", json=orders)
    assert response.status_code == 201, response.text

    await world.at(datetime.fromisoformat("2026-11-03T02:31:00+08:00").astimezone(UTC))
    faded = await world.get("customer", fading["id"])
    assert faded["last_order_date"] == "2026-08-30" and faded["clv_as_of"] == "2026-11-03"
    assert float(faded["p_alive"]) < 0.3
    for customer in regulars:
        assert float((await world.get("customer", customer["id"]))["p_alive"]) > 0.5

    await world.at(at_eight("2026-11-03"))
    assert (await world.get("customer", fading["id"]))["churn_risk"] is True
    assert not any([(await world.get("customer", c["id"]))["churn_risk"] for c in regulars])
    assert await churn_tasks(world) == ["流失预警：宁波速达电子有限公司"]
