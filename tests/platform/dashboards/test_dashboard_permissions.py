"""Dashboards count through the one permission layer: a sales rep's figures cover only their
own records, their manager's the team's (the manager and those who report to them), and a
figure that would group by, filter on or aggregate a field hidden from the reader says it is
not available to them instead of showing it. (Records: see test_widget_kinds.py.)"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
from shop_board import Shop, widget

BOARD = "/api/apps/shop/dashboards/sales"


async def figures(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    response = await client.get(BOARD, params=params)
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


async def test_a_rep_counts_only_their_own_records(shop: Shop) -> None:
    body = await figures(shop.clients["rep1"])
    assert widget(body, "won_amount")["value"] == Decimal("1000.10")  # D1
    assert widget(body, "deals")["value"] == 3
    assert widget(body, "win_rate")["value"] == Decimal("50.00")  # D1 won, D2 lost
    leaders = widget(body, "leaders")
    assert [(r["label"], r["values"]["amount"]) for r in leaders["rows"]] == \
        [("Rep1", Decimal("1000.10"))]
    assert [s["value"] for s in widget(body, "pipeline")["steps"]] == [3, 3, 1]
    assert [s["current"] for s in widget(body, "stages")["steps"]] == [0, 0, 1, 1]
    other = await figures(shop.clients["other"])
    assert widget(other, "won_amount")["value"] == Decimal("9999.00")
    assert widget(other, "deals")["value"] == 1


async def test_a_manager_sees_the_team(shop: Shop) -> None:
    body = await figures(shop.clients["boss"])
    assert widget(body, "won_amount")["value"] == Decimal("1700.10")  # D1 + D6, not D7
    assert widget(body, "deals")["value"] == 6
    assert widget(body, "win_rate")["value"] == Decimal("66.67")
    assert [(r["label"], r["values"]["amount"]) for r in widget(body, "leaders")["rows"]] \
        == [("Rep2", Decimal("2000.05")), ("Rep1", Decimal("1000.10")),
            ("Boss", Decimal("700.00"))]
    assert [s["value"] for s in widget(body, "pipeline")["steps"]] == [8, 6, 3]
    assert widget(body, "margin")["value"] == Decimal("150.00")  # not hidden from them


async def test_hidden_fields_stay_hidden(shop: Shop) -> None:
    body = await figures(shop.clients["rep1"])
    for name in ("margin", "by_margin"):  # aggregating it, grouping by it
        found = widget(body, name)
        assert found["available"] is False, found
        assert "value" not in found and "rows" not in found
        assert "margin" in found["reason"] and "Deal" in found["reason"]
    assert widget(body, "deals")["available"] is True  # the others still show
    zh = await shop.clients["rep1"].get(BOARD, headers={"Accept-Language": "zh-CN"})
    assert "无权查看" in widget(zh.json(), "margin")["reason"]
    # an extra filter on the hidden field would reveal it: each deal figure refuses
    narrowed = await figures(shop.clients["rep1"],
                             filter=json.dumps({">": [{"var": "margin"}, 60]}))
    assert widget(narrowed, "won_amount")["available"] is False
    assert "margin" in widget(narrowed, "won_amount")["reason"]
    assert widget(narrowed, "pipeline")["available"] is False
    assert widget(await figures(shop.clients["boss"], filter=json.dumps(
        {">": [{"var": "margin"}, 60]})), "deals")["value"] == 1  # D1


async def test_lookup_titles_only_for_records_within_reach(shop: Shop) -> None:
    accounts = widget(await figures(shop.clients["rep1"]), "by_account")
    bolt = shop.accounts["Bolt"]  # rep2's account: rep1's deal D3 is on it
    assert [(r["key"], r["label"], r["values"]["deals"]) for r in accounts["rows"]] == \
        [(bolt, f"#{bolt}", 1), (shop.accounts["Acme"], "Acme", 2)]  # sorted by label


async def test_without_read_permission_every_figure_is_unavailable(shop: Shop) -> None:
    body = await figures(shop.clients["nobody"])
    assert all(not w["available"] for w in body["widgets"])
    assert widget(body, "deals")["reason"] == \
        "Not available to you: you may not read Deal records"


async def test_dashboards_listed_by_role(shop: Shop) -> None:
    rep = await shop.clients["rep1"].get("/api/apps/shop/dashboards")
    assert rep.status_code == 200, rep.text
    assert [d["name"] for d in rep.json()["items"]] == ["sales"]
    boss = await shop.clients["boss"].get("/api/apps/shop/dashboards")
    assert [d["name"] for d in boss.json()["items"]] == ["sales", "management"]
    assert boss.json()["items"][0]["widgets"][0] == {"name": "won_amount", "kind": "metric",
                                                     "label": "Won"}
    refused = await shop.clients["rep1"].get("/api/apps/shop/dashboards/management")
    assert refused.status_code == 404
    assert refused.headers["content-type"].startswith("application/problem+json")
    opened = await shop.clients["boss"].get("/api/apps/shop/dashboards/management")
    assert opened.json()["widgets"][0]["value"] == 6
