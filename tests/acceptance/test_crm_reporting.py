"""The sales and service dashboards of CRM_TEMPLATE.md §4 (数据看板), from a month of work:
the funnel with its conversions, won amount against the target, the leaderboard, average
deal size, win rate and sales cycle; payments against their target; ticket volume. Each
reader's figures count only the records they may read: the director sees the company, a
rep sees their own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from crm_world import APP, World
from deal_steps import converted, up_to_quote

DAY = timedelta(days=1)


async def won(world: World, opportunity: dict[str, Any], rep: str, price: int) -> dict:
    """Through the sales SOP to a signed contract of twice ``price``, then won by ``rep``:
    the deal's amount is its contract's."""
    await up_to_quote(world, opportunity, rep=rep, price=price, discount=0)
    [contract] = await world.find("contract", {"==": [{"var": "opportunity"},
                                                      opportunity["id"]]})
    await world.change("contract", contract["id"], {"status": "signed"})
    await world.change("opportunity", opportunity["id"], {"stage": "won"}, by=rep)
    return contract


async def a_month_of_sales(world: World) -> None:
    """November 2026: three leads, two converted; zhang wins a 100,000 contract after 9
    days, li one of 50,000 after 14, zhang loses one; 40,000 paid; targets of 200,000 and
    100,000. The leads' budgets (80,000 each) are not what was won."""
    for month_target in ({"kind": "sales", "amount": 200000},
                         {"kind": "payments", "amount": 100000}):
        await world.create("sales_target", {"name": f"11 月{month_target['kind']}目标",
                                            "month": "2026-11-01", **month_target})
    opportunities = []
    for rep, company in (("zhang", "杭州云启科技有限公司"), ("li", "宁波港联物流有限公司")):
        opportunities.append((await converted(world, rep, company))[2])
    await world.create("lead", {"name": "未跟进", "company": "温州明达阀门有限公司",
                                "phone": "13712345678", "region": "east_china",
                                "source": "trade_show"})
    zhang_deal, li_deal = opportunities
    lost = await world.create("opportunity", {
        "name": "仓储系统二期", "customer": zhang_deal["customer"],
        "contact": zhang_deal["contact"], "source": "referral", "stage": "needs_analysis",
        "amount": 30000, "owner": world.id("zhang")}, by="zhang")

    await world.advance(9 * DAY)
    contract = await won(world, zhang_deal, "zhang", 50000)
    await world.change("opportunity", lost["id"], {"stage": "lost",
                                                   "lost_reason": "price"})
    await world.create("payment", {"contract": contract["id"], "amount": 40000,
                                   "paid_on": "2026-11-12"}, by="finance")
    await world.advance(5 * DAY)
    await won(world, li_deal, "li", 25000)


async def dashboard(world: World, key: str, name: str, **params: str) -> dict[str, Any]:
    response = await world.as_(key).get(f"/api/apps/{APP}/dashboards/{name}", params=params)
    assert response.status_code == 200, response.text
    return {w["name"]: w for w in response.json()["widgets"]}


def parts(ratio: dict[str, Any]) -> tuple[float, float]:
    return ratio["numerator"]["value"], ratio["denominator"]["value"]


def november(series: dict[str, Any]) -> dict[str, float]:
    at = [b["key"] for b in series["buckets"]].index("2026-11")
    return {s["name"]: s["values"][at] for s in series["series"]}


async def test_the_director_sees_the_months_sales_against_target(world: World) -> None:
    await a_month_of_sales(world)

    sales = await dashboard(world, "director", "sales", period="this_month")

    assert sales["won_amount"]["value"] == 150000
    assert sales["won_deals"]["value"] == 2
    assert sales["average_deal_size"]["value"] == 75000
    assert sales["sales_cycle"]["value"] == 11.5  # (9 + 14) / 2 days
    assert parts(sales["win_rate"]) == (2, 3)  # won of won + lost
    assert sales["win_rate"]["value"] == 66.67  # percent
    assert parts(sales["lead_conversion"]) == (2, 3)
    assert [(s["name"], s["value"]) for s in sales["sales_funnel"]["steps"]] == [
        ("leads", 3), ("opportunities", 3), ("won", 2)]
    assert [s["conversion_from_previous"] for s in sales["sales_funnel"]["steps"]] == [
        None, 100.0, 66.67]
    assert [(r["label"], r["values"]["won_amount"]) for r in sales["leaderboard"]["rows"]] == [
        ("张伟", 100000), ("李娜", 50000)]
    assert november(sales["sales_vs_target"]) == {"sales": 150000, "target": 200000}
    assert november(sales["payments_vs_target"]) == {"payments": 40000, "target": 100000}


async def test_a_rep_sees_their_own_figures_and_last_month_is_empty(world: World) -> None:
    await a_month_of_sales(world)

    mine = await dashboard(world, "zhang", "sales", period="this_month")
    assert mine["won_amount"]["value"] == 100000
    assert [r["label"] for r in mine["leaderboard"]["rows"]] == ["张伟"]

    october = await dashboard(world, "director", "sales", **{"from": "2026-10-01",
                                                             "to": "2026-10-31"})
    assert october["won_amount"]["value"] in (0, None)
    assert october["leaderboard"]["rows"] == []


async def test_ticket_volume_counts_the_months_tickets(world: World) -> None:
    customer = await world.create("customer", {"name": "芜湖长江机电有限公司",
                                               "owner": world.id("zhang"), "tag": "formal"})
    for subject, priority in (("电机异响", "p2"), ("控制柜报警", "p1"), ("咨询保养周期", "p4")):
        await world.create("ticket", {"subject": subject, "customer": customer["id"],
                                      "channel": "phone", "type": "fault",
                                      "priority": priority})

    service = await dashboard(world, "service_lead", "service", period="this_month")

    assert service["ticket_volume"]["value"] == 3
    assert service["open_tickets"]["value"] == 3
    by_priority = {r["key"]: r["values"]["tickets"] for r in service["by_priority"]["rows"]}
    assert (by_priority["p1"], by_priority["p2"], by_priority["p4"]) == (1, 1, 1)
