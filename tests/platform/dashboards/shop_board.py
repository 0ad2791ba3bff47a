"""The small app of the dashboard tests: deals, leads and monthly targets of a sales team
(a manager, two reps who report to them, and a rep outside the team), with every widget
kind on one dashboard. The numbers the tests expect are worked out by hand in the tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from dashboard_people import staff

from loom.platform.clock import FixedClock
from loom.platform.services import Services

WON = {"==": [{"var": "stage"}, "won"]}
CLOSED = {"in": [{"var": "stage"}, ["won", "lost"]]}

ENTITIES: dict[str, Any] = {
    "account": {"label": {"zh-CN": "客户", "en": "Account"},
                "fields": {"name": {"type": "text"}, "owner": {"type": "user"}}},
    "deal": {
        "label": {"zh-CN": "商机", "en": "Deal"},
        "fields": {
            "name": {"type": "text"},
            "stage": {"type": "select", "label": {"zh-CN": "阶段", "en": "Stage"}, "options": [
                {"value": "new", "label": {"zh-CN": "新建", "en": "New"}, "category": "open"},
                {"value": "qualified", "label": {"zh-CN": "已确认", "en": "Qualified"},
                 "category": "open"},
                {"value": "proposal", "label": {"zh-CN": "方案", "en": "Proposal"},
                 "category": "open"},
                {"value": "won", "label": {"zh-CN": "赢单", "en": "Won"}, "category": "won"},
                {"value": "lost", "label": {"zh-CN": "输单", "en": "Lost"},
                 "category": "lost"}]},
            "amount": {"type": "currency", "currency": "CNY"},
            "margin": {"type": "currency"},
            "region": {"type": "select", "options": [{"value": "east"}, {"value": "north"}]},
            "account": {"type": "lookup", "ref": "account"},
            "owner": {"type": "user", "label": {"zh-CN": "负责人", "en": "Owner"}},
            "closed_on": {"type": "date"}}},
    "lead": {"label": {"zh-CN": "线索", "en": "Lead"},
             "fields": {"name": {"type": "text"}, "owner": {"type": "user"}}},
    "target": {"label": {"zh-CN": "目标", "en": "Target"},
               "fields": {"month": {"type": "date"}, "amount": {"type": "currency"}}},
}

WIDGETS: list[dict[str, Any]] = [
    {"kind": "metric", "name": "won_amount", "label": {"zh-CN": "赢单金额", "en": "Won"},
     "entity": "deal", "aggregate": "sum", "field": "amount", "filter": WON,
     "date_field": "closed_on"},
    {"kind": "metric", "name": "deals", "label": "Deals", "entity": "deal"},
    {"kind": "metric", "name": "avg_won", "label": "Average won deal", "entity": "deal",
     "aggregate": "avg", "field": "amount", "filter": WON},
    {"kind": "metric", "name": "big_deals", "label": "Deals over 1000", "entity": "deal",
     "aggregate": "sum", "expression": "IF(amount > 1000, 1, 0)"},
    {"kind": "metric", "name": "sellers", "label": "Sellers", "entity": "deal",
     "aggregate": "count_distinct", "field": "owner"},
    {"kind": "metric", "name": "first_close", "label": "First close", "entity": "deal",
     "aggregate": "min", "field": "closed_on"},
    {"kind": "metric", "name": "margin", "label": "Margin", "entity": "deal",
     "aggregate": "sum", "field": "margin"},
    {"kind": "ratio", "name": "win_rate", "label": {"zh-CN": "赢率", "en": "Win rate"},
     "numerator": {"entity": "deal", "filter": WON, "date_field": "closed_on"},
     "denominator": {"entity": "deal", "filter": CLOSED, "date_field": "closed_on"}},
    {"kind": "breakdown", "name": "leaders", "label": "Leaderboard", "entity": "deal",
     "group_by": "owner", "filter": WON, "sort": "-amount", "limit": 3,
     "measures": [{"name": "won", "label": "Won deals"},
                  {"name": "amount", "aggregate": "sum", "field": "amount"}]},
    {"kind": "breakdown", "name": "by_stage", "label": "By stage", "entity": "deal",
     "group_by": "stage", "measures": [
         {"name": "deals"},
         {"name": "east", "filter": {"==": [{"var": "region"}, "east"]}}]},
    {"kind": "breakdown", "name": "by_account", "label": "By account", "entity": "deal",
     "group_by": "account", "sort": "group", "measures": [{"name": "deals"}]},
    {"kind": "breakdown", "name": "by_margin", "label": "By margin", "entity": "deal",
     "group_by": "margin", "measures": [{"name": "deals"}]},
    {"kind": "breakdown", "name": "won_by_month", "label": "Won by month", "entity": "deal",
     "group_by": "closed_on", "bucket": "month", "filter": WON, "period": "this_year",
     "date_field": "closed_on",
     "measures": [{"name": "amount", "aggregate": "sum", "field": "amount"}]},
    {"kind": "breakdown", "name": "leads_by_day", "label": "Leads by day", "entity": "lead",
     "group_by": "created_at", "bucket": "day", "date_field": "created_at",
     "measures": [{"name": "leads"}]},
    {"kind": "funnel", "name": "stages", "label": "Stages",
     "stages": {"entity": "deal", "field": "stage"}},
    {"kind": "funnel", "name": "pipeline", "label": "Lead to won", "steps": [
        {"name": "leads", "entity": "lead", "label": "Leads"},
        {"name": "deals", "entity": "deal", "label": "Deals"},
        {"name": "won", "entity": "deal", "filter": WON, "label": "Won"}]},
    {"kind": "series", "name": "won_vs_target", "label": "Won against target",
     "bucket": "month", "series": [
         {"name": "won", "entity": "deal", "aggregate": "sum", "field": "amount",
          "filter": WON, "date_field": "closed_on", "label": "Won"},
         {"name": "target", "entity": "target", "aggregate": "sum", "field": "amount",
          "date_field": "month", "label": "Target"}]},
]

DOC: dict[str, Any] = {
    "app": {"label": "Shop", "timezone": "Asia/Shanghai"},
    "entities": ENTITIES,
    "roles": {
        "rep": {"permissions": {
            "deal": {"create": True, "read": "own", "update": "own",
                     "fields": {"margin": "hidden"}},
            "lead": {"read": "own"}, "account": {"read": "own"},
            "target": {"read": "all"}}},
        "manager": {"permissions": {
            "deal": {"read": "team"}, "lead": {"read": "team"}, "account": {"read": "all"},
            "target": {"read": "all"}}},
    },
    "dashboards": {
        "sales": {"label": {"zh-CN": "销售", "en": "Sales"}, "widgets": WIDGETS},
        "management": {"label": "Management", "roles": ["manager"], "order": 200,
                       "widgets": [{"kind": "metric", "name": "deals", "label": "Deals",
                                    "entity": "deal"}]},
    },
}

# who: (manager, role)
PEOPLE = {"boss": (None, "manager"), "rep1": ("boss", "rep"), "rep2": ("boss", "rep"),
          "other": (None, "rep"), "nobody": (None, None)}


class Shop:
    """The app with its people (an API client each) and its records."""

    def __init__(self, services: Services, admin: httpx.AsyncClient) -> None:
        self.services = services
        self.admin = admin
        self.clients: dict[str, httpx.AsyncClient] = {}
        self.ids: dict[str, int] = {}
        self.accounts: dict[str, int] = {}

    async def setup(self) -> None:
        created = await self.admin.post("/api/apps", json={"slug": "shop", "metadata": DOC})
        assert created.status_code == 201, created.text
        self.ids, self.clients = await staff(self.services, self.admin, "shop", PEOPLE)
        await self._records()

    async def _bulk(self, entity: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        response = await self.admin.post(f"/api/apps/shop/records/{entity}/_bulk",
                                         json=records)
        assert response.status_code == 201, response.text
        return response.json()["items"]

    async def _records(self) -> None:
        ids = self.ids
        accounts = await self._bulk("account", [
            {"name": "Acme", "owner": ids["rep1"]}, {"name": "Bolt", "owner": ids["rep2"]}])
        self.accounts = {a["name"]: a["id"] for a in accounts}
        acme, bolt = self.accounts["Acme"], self.accounts["Bolt"]
        await self._bulk("deal", [
            {"name": "D1", "stage": "won", "amount": "1000.10", "margin": 100,
             "closed_on": "2026-11-01", "region": "east", "account": acme,
             "owner": ids["rep1"]},
            {"name": "D2", "stage": "lost", "amount": 500, "margin": 50,
             "closed_on": "2026-11-03", "region": "east", "account": acme,
             "owner": ids["rep1"]},
            {"name": "D3", "stage": "proposal", "amount": "300.20", "region": "north",
             "account": bolt, "owner": ids["rep1"]},
            {"name": "D4", "stage": "won", "amount": "2000.05", "closed_on": "2026-10-15",
             "region": "north", "account": bolt, "owner": ids["rep2"]},
            {"name": "D5", "stage": "qualified", "amount": 100, "region": "north",
             "owner": ids["rep2"]},
            {"name": "D6", "stage": "won", "amount": 700, "closed_on": "2026-11-20",
             "region": "east", "owner": ids["boss"]},
            {"name": "D7", "stage": "won", "amount": 9999, "closed_on": "2026-11-05",
             "region": "north", "owner": ids["other"]},
        ])
        await self._bulk("target", [
            {"month": "2026-10-01", "amount": 1500}, {"month": "2026-11-01", "amount": 2000},
            {"month": "2026-12-01", "amount": 3000}])
        clock = self.services.clock
        assert isinstance(clock, FixedClock)
        start = clock.now()
        # 01:00 on November 1st in Shanghai is still October 31st in UTC
        clock.set(datetime(2026, 10, 31, 17, 0, tzinfo=UTC))
        await self._bulk("lead", [{"name": f"L{i}", "owner": ids["rep1"]} for i in (1, 2)])
        clock.set(start)
        await self._bulk("lead", [{"name": "L3", "owner": ids["rep1"]}] +
                         [{"name": f"L{i}", "owner": ids["rep2"]} for i in range(4, 9)] +
                         [{"name": f"L{i}", "owner": ids["other"]} for i in (9, 10)])

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


def widget(body: dict[str, Any], name: str) -> dict[str, Any]:
    return next(w for w in body["widgets"] if w["name"] == name)
