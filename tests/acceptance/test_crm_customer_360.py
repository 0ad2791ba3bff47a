"""The customer's 360° view of CRM_TEMPLATE.md §3: one call answers the customer with its
contacts, opportunities, contracts, payments, orders, tickets, follow-ups and visits, so
nobody asks the customer to repeat themselves — and each reader sees only what their role
lets them: the service engineer sees the contracts and tickets, not the money."""

from __future__ import annotations

from typing import Any

from crm_world import APP, World


async def customer_with_history(world: World) -> dict[str, Any]:
    customer = await world.create("customer", {"name": "合肥华宇电气有限公司",
                                               "owner": world.id("zhang"), "tag": "formal"})
    cid = customer["id"]
    contact = await world.create("contact", {"name": "高峰", "customer": cid,
                                             "phone": "13955102233"})
    # a new deal being analysed, next to last year's signed maintenance contract
    await world.create("opportunity", {
        "name": "配电柜改造项目", "customer": cid, "contact": contact["id"],
        "source": "referral", "stage": "needs_analysis", "amount": 80000,
        "owner": world.id("zhang")}, by="zhang")
    contract = await world.create("contract", {
        "title": "配电柜年度维保合同", "customer": cid, "owner": world.id("zhang"),
        "amount": 80000, "status": "draft"}, by="zhang")
    await world.change("contract", contract["id"], {"status": "signed"})
    await world.create("payment", {"contract": contract["id"], "amount": 30000,
                                   "paid_on": "2026-11-02"}, by="finance")
    await world.create("order", {"customer": cid, "order_date": "2026-10-15",
                                 "amount": 12000}, by="finance")
    await world.create("follow_up", {"customer": cid, "kind": "call",
                                     "summary": "确认改造方案与工期",
                                     "happened_at": "2026-11-02T02:00:00Z"}, by="zhang")
    await world.create("ticket", {"subject": "配电柜温度告警", "customer": cid,
                                  "channel": "phone", "type": "fault", "priority": "p2"})
    return customer


async def the_360(world: World, key: str, customer_id: int) -> dict[str, Any]:
    response = await world.as_(key).get(
        f"/api/apps/{APP}/records/customer/{customer_id}/related", params={"form": "customer"})
    assert response.status_code == 200, response.text
    return response.json()


def lists(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["entity"]: item for item in view["related"]}


async def test_the_owner_sees_the_whole_customer_in_one_call(world: World) -> None:
    customer = await customer_with_history(world)

    view = await the_360(world, "zhang", customer["id"])

    assert view["record"]["name"] == "合肥华宇电气有限公司"
    found = lists(view)
    assert list(found) == ["contact", "opportunity", "contract", "payment", "order",
                           "ticket", "follow_up", "visit"]
    assert [i["name"] for i in found["contact"]["items"]] == ["高峰"]
    assert [i["stage"] for i in found["opportunity"]["items"]] == ["needs_analysis"]
    [contract] = found["contract"]["items"]
    assert contract["status"] == "signed" and float(contract["received_amount"]) == 30000
    assert [float(i["amount"]) for i in found["payment"]["items"]] == [30000]  # via contract
    assert [float(i["amount"]) for i in found["order"]["items"]] == [12000]
    assert [i["subject"] for i in found["ticket"]["items"]] == ["配电柜温度告警"]
    assert [i["summary"] for i in found["follow_up"]["items"]] == ["确认改造方案与工期"]
    assert found["visit"]["items"] == [] and found["visit"]["count"] == 0
    assert found["ticket"]["label"] == "服务工单"  # in the reader's language


async def test_the_engineer_sees_contracts_and_tickets_but_not_the_money(
        world: World) -> None:
    customer = await customer_with_history(world)

    found = lists(await the_360(world, "engineer_wu", customer["id"]))

    # opportunities, payments and orders are not for the service team: absent, not errors
    assert set(found) == {"contact", "contract", "ticket", "follow_up", "visit"}
    [contract] = found["contract"]["items"]
    assert contract["status"] == "signed"
    assert "amount" not in contract and "received_amount" not in contract
    assert [c["name"] for c in found["contract"]["columns"]] == ["number", "title", "status"]
    assert [i["subject"] for i in found["ticket"]["items"]] == ["配电柜温度告警"]


async def test_a_rep_of_another_region_cannot_open_the_customer(world: World) -> None:
    customer = await customer_with_history(world)

    response = await world.as_("sun").get(
        f"/api/apps/{APP}/records/customer/{customer['id']}/related")

    assert response.status_code == 404, response.text
