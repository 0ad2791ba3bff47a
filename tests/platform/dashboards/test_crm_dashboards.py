"""The CRM template's dashboards on a fresh clone, with a handful of records created through
the HTTP API (the template's rules stamp close dates, sales cycles, last order dates and SLA
states as they do for anyone). Today is Monday 2026-11-02, 09:30 in Shanghai; the
numbers expected are worked out by hand next to each assertion."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from crm_world import sop_ready
from dashboard_people import staff
from shop_board import widget

from loom.platform.clock import FixedClock
from loom.platform.services import Services
from loom.platform.worker import Worker

RECORDS = "/api/apps/crm/records"
# who: (manager, role)
PEOPLE = {"director": (None, "sales_director"), "manager": ("director", "sales_manager"),
          "zhang": ("manager", "sales_rep"), "li": ("manager", "sales_rep"),
          "wu": (None, "service_engineer"), "lawyer": (None, "legal")}


class Crm:
    def __init__(self, services: Services, admin: httpx.AsyncClient) -> None:
        self.services = services
        self.admin = admin
        self.ids: dict[str, int] = {}
        self.clients: dict[str, httpx.AsyncClient] = {}

    @property
    def clock(self) -> FixedClock:
        assert isinstance(self.services.clock, FixedClock)
        return self.services.clock

    async def setup(self) -> None:
        created = await self.admin.post("/api/apps", json={"slug": "crm", "template": "crm"})
        assert created.status_code == 201, created.text
        self.ids, self.clients = await staff(self.services, self.admin, "crm", PEOPLE)

    async def create(self, entity: str, values: dict[str, Any]) -> dict[str, Any]:
        response = await self.admin.post(f"{RECORDS}/{entity}", json=values)
        assert response.status_code == 201, response.text
        return response.json()

    async def change(self, entity: str, record: dict[str, Any],
                     values: dict[str, Any]) -> dict[str, Any]:
        current = (await self.admin.get(f"{RECORDS}/{entity}/{record['id']}")).json()
        response = await self.admin.patch(f"{RECORDS}/{entity}/{record['id']}", json=values,
                                          headers={"If-Match": str(current["version"])})
        assert response.status_code == 200, response.text
        return response.json()

    async def board(self, name: str, by: str = "director", **params: str) -> dict[str, Any]:
        client = self.admin if by == "admin" else self.clients[by]
        response = await client.get(f"/api/apps/crm/dashboards/{name}", params=params)
        assert response.status_code == 200, response.text
        return json.loads(response.text, parse_float=Decimal)

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


@pytest.fixture
async def crm(api: httpx.AsyncClient, services: Services) -> AsyncIterator[Crm]:
    api.headers["Accept-Language"] = "en"
    built = Crm(services, api)
    await built.setup()
    yield built
    await built.close()


async def _sales(crm: Crm) -> None:
    ids = crm.ids
    start = crm.clock.now()
    account = await crm.create("customer", {"code": "A1", "name": "大客户", "tag": "prospect"})
    for number in range(4):
        await crm.create("lead", {"name": f"线索{number}", "company": f"公司{number}",
                                  "region": "east_china", "owner": ids["zhang"]})
    converted = (await crm.admin.get(f"{RECORDS}/lead", params={"sort": "id"})
                 ).json()["items"][0]
    action = await crm.admin.post(f"{RECORDS}/lead/{converted['id']}/actions/convert",
                                  json={})
    assert action.status_code == 200, action.text
    contact = await crm.create("contact", {"name": "王总", "customer": account["id"]})
    on = {"customer": account["id"], **sop_ready(contact["id"])}
    big = await crm.create("opportunity", {"name": "大单", "stage": "initial_contact",
                                           "amount": "120000.50", "owner": ids["zhang"], **on})
    small = await crm.create("opportunity", {"name": "小单", "stage": "demo",
                                             "amount": 30000, "owner": ids["li"], **on})
    await crm.create("opportunity", {"name": "输单", "stage": "quote", "amount": 50000,
                                     "owner": ids["li"], **on})
    await crm.create("sales_target", {"name": "十一月销售", "kind": "sales",
                                      "month": "2026-11-01", "amount": 200000})
    await crm.create("sales_target", {"name": "十月销售", "kind": "sales",
                                      "month": "2026-10-01", "amount": 150000})
    await crm.create("sales_target", {"name": "十一月回款", "kind": "payments",
                                      "month": "2026-11-01", "amount": 80000})
    crm.clock.set(start + timedelta(days=10))  # Thursday 2026-11-12
    await _win(crm, big, "120000.50")
    crm.clock.set(start + timedelta(days=3))  # Thursday 2026-11-05
    await _win(crm, small, "30000")
    lost = (await crm.admin.get(f"{RECORDS}/opportunity", params={
        "filter": json.dumps({"==": [{"var": "name"}, "输单"]})})).json()["items"][0]
    await crm.change("opportunity", lost, {"stage": "lost", "lost_reason": "price"})
    crm.clock.set(start)


async def _win(crm: Crm, deal: dict[str, Any], price: str) -> None:
    """Won as the sales SOP has it: a quote of ``price`` sent, its contract signed, then
    the deal marked won (its amount is the contract's)."""
    product = await crm.create("product", {"name": f"{deal['name']}方案", "price": price})
    quote = await crm.create("quote", {"opportunity": deal["id"]})
    await crm.create("quote_item", {"quote": quote["id"], "product": product["id"],
                                    "quantity": 1})
    sent = await crm.admin.post(f"{RECORDS}/quote/{quote['id']}/actions/mark_sent", json={})
    assert sent.status_code == 200, sent.text
    contract = (await crm.admin.get(f"{RECORDS}/contract", params={
        "filter": json.dumps({"==": [{"var": "quote"}, quote["id"]]})})).json()["items"][0]
    await crm.change("contract", contract, {"status": "signed"})
    await crm.change("opportunity", deal, {"stage": "won"})


async def test_sales_dashboard(crm: Crm) -> None:
    await _sales(crm)
    body = await crm.board("sales")
    assert body["label"] == "Sales"
    # won in November: 大单 120000.50 (closed 11-12, after 10 days) and 小单 30000 (11-05,
    # after 3 days)
    assert widget(body, "won_amount")["value"] == Decimal("150000.50")
    assert widget(body, "won_deals")["value"] == 2
    assert widget(body, "average_deal_size")["value"] == Decimal("75000.25")
    cycle = widget(body, "sales_cycle")
    assert cycle["value"] == Decimal("6.50") and cycle["format"]["unit"] == "days"
    # four leads created, one converted into an opportunity
    conversion = widget(body, "lead_conversion")
    assert (conversion["numerator"]["value"], conversion["denominator"]["value"]) == (1, 4)
    assert conversion["value"] == Decimal("25.00")
    assert widget(body, "win_rate")["value"] == Decimal("66.67")  # 2 won, 1 lost
    # 4 leads → 4 opportunities (3 + the converted lead's) → 2 won
    funnel = widget(body, "sales_funnel")
    assert [s["value"] for s in funnel["steps"]] == [4, 4, 2]
    assert funnel["steps"][2]["conversion_from_first"] == Decimal("50.00")
    stages = widget(body, "stage_funnel")
    # now: initial_contact 1 (converted), won 2, lost 1: cumulative, lost in the first only
    assert [(s["name"], s["value"]) for s in stages["steps"]] == [
        ("initial_contact", 4), ("needs_analysis", 2), ("demo", 2), ("quote", 2),
        ("contract_approval", 2), ("won", 2)]
    leaders = widget(body, "leaderboard")
    assert [(r["label"], r["values"]["won_amount"]) for r in leaders["rows"]] == [
        ("Zhang", Decimal("120000.50")), ("Li", Decimal("30000.00"))]
    sales = widget(body, "sales_vs_target")
    assert len(sales["buckets"]) == 12 and sales["period"]["from"] == "2026-01-01"
    drawn = {s["name"]: s["values"] for s in sales["series"]}
    assert drawn["sales"][10] == Decimal("150000.50") and drawn["sales"][9] == 0
    assert drawn["target"][9:11] == [Decimal("150000.00"), Decimal("200000.00")]
    payments = {s["name"]: s["values"] for s in widget(body, "payments_vs_target")["series"]}
    assert payments["target"][10] == Decimal("80000.00") and payments["payments"][10] == 0
    # a sales rep: only their own opportunities
    mine = await crm.board("sales", by="zhang")
    assert widget(mine, "won_amount")["value"] == Decimal("120000.50")
    assert [r["label"] for r in widget(mine, "leaderboard")["rows"]] == ["Zhang"]
    assert widget(mine, "win_rate")["value"] == Decimal("100.00")


async def test_customer_dashboard(crm: Crm) -> None:
    loyal = await crm.create("customer", {"code": "C1", "name": "忠实客户", "tag": "formal",
                                          "owner": crm.ids["zhang"]})
    gone = await crm.create("customer", {"code": "C2", "name": "流失客户", "tag": "formal",
                                         "owner": crm.ids["li"]})
    await crm.create("customer", {"code": "C3", "name": "潜在客户", "tag": "prospect"})
    for customer, day, amount in ((loyal, "2026-06-01", 1000), (loyal, "2026-10-20", 2500),
                                  (gone, "2026-07-01", 800)):
        await crm.create("order", {"customer": customer["id"], "order_date": day,
                                   "amount": amount})
    await crm.change("customer", loyal, {"rfm_tier": "important_value"})
    await crm.change("customer", gone, {"rfm_tier": "general_retain"})
    for score in (5, 5, 2, None):
        await crm.create("visit", {"kind": "satisfaction", "customer": loyal["id"],
                                   "due_on": "2026-11-02", "status": "done", "score": score,
                                   "visited_at": crm.clock.now().isoformat()})
    body = await crm.board("customers")
    # both formal customers became formal today (the template's rule stamps the date)
    assert widget(body, "new_customers")["value"] == 2
    # of the two formal customers with orders, C2's last order (07-01) is over 90 days old
    churn = widget(body, "churn_rate")
    assert (churn["numerator"]["value"], churn["denominator"]["value"]) == (1, 2)
    assert churn["value"] == Decimal("50.00")
    assert widget(body, "repeat_purchase_rate")["value"] == Decimal("50.00")  # C1 of C1, C2
    tiers = {r["key"]: r["values"] for r in widget(body, "rfm_tiers")["rows"]}
    assert tiers["important_value"] == {"customers": 1, "spend": Decimal("3500.00")}
    assert tiers["general_retain"] == {"customers": 1, "spend": Decimal("800.00")}
    assert tiers[None]["customers"] == 1 and tiers["important_keep"]["customers"] == 0
    # scores 5, 5, 2: two promoters, one detractor of three → (2 − 1) / 3 × 100
    nps = widget(body, "nps")
    assert nps["value"] == Decimal("33.3") and nps["format"] == {"type": "number", "scale": 1}
    assert widget(body, "new_customers_by_month")["series"][0]["values"][-1] == 2
    rep = await crm.board("customers", by="zhang")  # their own customers only
    assert widget(rep, "repeat_purchase_rate")["value"] == Decimal("100.00")


async def test_service_dashboard(crm: Crm) -> None:
    customer = await crm.create("customer", {"code": "S1", "name": "服务客户",
                                             "tag": "formal"})
    tickets = []
    for priority in ("p1", "p3", "p3"):
        tickets.append(await crm.create("ticket", {
            "subject": f"故障 {priority}", "customer": customer["id"], "channel": "phone",
            "type": "fault", "priority": priority, "status": "new"}))
    start = crm.clock.now()
    crm.clock.set(start + timedelta(hours=1))  # within every target
    await crm.change("ticket", tickets[1], {"status": "in_progress"})
    await crm.change("ticket", tickets[1], {"status": "resolved", "satisfaction": 4})
    # the P1 ticket waits past its 8 working hours: the worker marks it breached
    crm.clock.set(start + timedelta(days=2))
    await Worker(crm.services).run_once(crm.clock.now())
    await crm.change("ticket", tickets[0], {"status": "resolved", "satisfaction": 2})
    crm.clock.set(start)
    body = await crm.board("service", **{"from": "2026-11-01", "to": "2026-11-30"})
    assert widget(body, "ticket_volume")["value"] == 3
    assert widget(body, "open_tickets")["value"] == 1
    sla = widget(body, "sla_compliance")
    assert (sla["numerator"]["value"], sla["denominator"]["value"]) == (1, 2)
    assert sla["value"] == Decimal("50.00")
    by_priority = {r["key"]: r["values"] for r in widget(body, "by_priority")["rows"]}
    assert by_priority["p1"] == {"tickets": 1, "breached": 1}
    assert by_priority["p3"] == {"tickets": 2, "breached": 0}
    assert widget(body, "satisfaction")["value"] == Decimal("3.00")
    months = widget(body, "volume_by_month")["rows"]
    assert months[-1]["key"] == "2026-11" and months[-1]["values"] == \
        {"p1": 1, "p2": 0, "p3": 2, "p4": 0}
    # legal staff are not among the service dashboard's roles: it does not exist for them
    listed = await crm.clients["lawyer"].get("/api/apps/crm/dashboards")
    assert listed.json()["items"] == []
    hidden = await crm.clients["lawyer"].get("/api/apps/crm/dashboards/service")
    assert hidden.status_code == 404
