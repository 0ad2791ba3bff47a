"""Every widget kind against numbers worked out by hand from the records of shop_board.py,
seen by the administrator (who reads everything). Today is Monday 2026-11-02 in Shanghai.

Deals: D1 won 1000.10 (closed 11-01, east, Acme, rep1), D2 lost 500 (11-03, east, Acme,
rep1), D3 proposal 300.20 (north, Bolt, rep1), D4 won 2000.05 (10-15, north, Bolt, rep2),
D5 qualified 100 (north, rep2), D6 won 700 (11-20, east, boss), D7 won 9999 (11-05, north,
other). Ten leads; two created at 01:00 on November 1st Shanghai time (still October 31st in
UTC). Targets: October 1500, November 2000, December 3000.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from shop_board import Shop, widget

BOARD = "/api/apps/shop/dashboards/sales"


async def figures(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    response = await client.get(BOARD, params=params)
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


def values(rows: list[dict[str, Any]], measure: str) -> list[tuple[Any, Any]]:
    return [(row["label"], row["values"][measure]) for row in rows]


async def test_metrics_aggregate_fields_and_formulas(shop: Shop) -> None:
    body = await figures(shop.admin)
    assert body["period"] == {"preset": "this_month", "from": "2026-11-01",
                              "to": "2026-11-30", "timezone": "Asia/Shanghai"}
    won = widget(body, "won_amount")
    # closed in November: D1 + D6 + D7 (D4 closed in October)
    assert won["value"] == Decimal("11699.10")
    assert won["format"] == {"type": "currency", "scale": 2, "currency": "CNY"}
    assert widget(body, "deals")["value"] == 7
    # (1000.10 + 2000.05 + 700 + 9999) / 4 = 3424.7875
    assert widget(body, "avg_won")["value"] == Decimal("3424.79")
    assert widget(body, "big_deals")["value"] == 3  # D1, D4, D7
    assert widget(body, "sellers")["value"] == 4
    assert widget(body, "first_close")["value"] == "2026-10-15"
    assert widget(body, "margin")["value"] == Decimal("150.00")


async def test_ratio_is_a_percentage_of_two_measures(shop: Shop) -> None:
    ratio = widget(await figures(shop.admin), "win_rate")
    # closed in November: won D1, D6, D7; lost D2
    assert ratio["numerator"]["value"] == 3 and ratio["denominator"]["value"] == 4
    assert ratio["value"] == Decimal("75.00")
    assert ratio["format"] == {"type": "percent", "scale": 2}
    empty = widget(await figures(shop.admin, period="last_year"), "win_rate")
    assert empty["denominator"]["value"] == 0 and empty["value"] is None


async def test_breakdown_by_user_sorted_and_cut_to_top_n(shop: Shop) -> None:
    leaders = widget(await figures(shop.admin), "leaders")
    assert leaders["group"] == {"field": "owner", "label": "Owner", "bucket": None}
    assert [(r["label"], r["values"]["won"], r["values"]["amount"])
            for r in leaders["rows"]] == [("Other", 1, Decimal("9999.00")),
                                          ("Rep2", 1, Decimal("2000.05")),
                                          ("Rep1", 1, Decimal("1000.10"))]
    assert leaders["rows"][0]["key"] == shop.ids["other"]


async def test_breakdown_by_select_keeps_option_order_and_categories(shop: Shop) -> None:
    stages = widget(await figures(shop.admin), "by_stage")
    assert [(r["key"], r["category"], r["values"]["deals"], r["values"]["east"])
            for r in stages["rows"]] == [("new", "open", 0, 0), ("qualified", "open", 1, 0),
                                         ("proposal", "open", 1, 0), ("won", "won", 4, 2),
                                         ("lost", "lost", 1, 1)]
    zh = await shop.admin.get(BOARD, headers={"Accept-Language": "zh-CN"})
    assert [r["label"] for r in widget(zh.json(), "by_stage")["rows"]] == \
        ["新建", "已确认", "方案", "赢单", "输单"]
    assert widget(zh.json(), "won_amount")["label"] == "赢单金额"


async def test_breakdown_by_lookup_shows_titles_and_blank_last(shop: Shop) -> None:
    accounts = widget(await figures(shop.admin), "by_account")
    assert values(accounts["rows"], "deals") == [("Acme", 2), ("Bolt", 2), ("(blank)", 3)]
    assert accounts["rows"][-1]["key"] is None


async def test_breakdown_by_month_and_by_local_day(shop: Shop) -> None:
    body = await figures(shop.admin)
    months = widget(body, "won_by_month")
    assert months["period"] == {"preset": "this_year", "from": "2026-01-01",
                                "to": "2026-12-31"}
    assert [r["key"] for r in months["rows"]] == [f"2026-{m:02d}" for m in range(1, 13)]
    amounts = dict(values(months["rows"], "amount"))
    assert amounts["2026-10"] == Decimal("2000.05")
    assert amounts["2026-11"] == Decimal("11699.10")
    assert sum(amounts.values()) == Decimal("13699.15")
    days = widget(body, "leads_by_day")
    counted = dict(values(days["rows"], "leads"))
    assert len(counted) == 30  # every day of November, empty ones too
    # the two leads of 2026-10-31T17:00Z were created on November 1st in Shanghai
    assert counted["2026-11-01"] == 2 and counted["2026-11-02"] == 8
    assert sum(counted.values()) == 10


async def test_stage_funnel_counts_records_that_passed_each_stage(shop: Shop) -> None:
    funnel = widget(await figures(shop.admin), "stages")
    steps = [(s["name"], s["category"], s["value"], s["current"]) for s in funnel["steps"]]
    # lost (D2) entered the funnel: it counts in the first step only
    assert steps == [("new", "open", 7, 0), ("qualified", "open", 6, 1),
                     ("proposal", "open", 5, 1), ("won", "won", 4, 4)]
    assert [s["conversion_from_previous"] for s in funnel["steps"]] == \
        [None, Decimal("85.71"), Decimal("83.33"), Decimal("80.00")]
    assert [s["conversion_from_first"] for s in funnel["steps"]] == \
        [None, Decimal("85.71"), Decimal("71.43"), Decimal("57.14")]


async def test_funnel_of_steps_on_different_entities(shop: Shop) -> None:
    funnel = widget(await figures(shop.admin), "pipeline")
    assert [(s["name"], s["value"]) for s in funnel["steps"]] == \
        [("leads", 10), ("deals", 7), ("won", 4)]
    assert [s["conversion_from_previous"] for s in funnel["steps"]] == \
        [None, Decimal("70.00"), Decimal("57.14")]
    assert funnel["steps"][2]["conversion_from_first"] == Decimal("40.00")


async def test_series_side_by_side_over_months(shop: Shop) -> None:
    body = await figures(shop.admin, **{"from": "2026-09-01", "to": "2026-11-30"})
    assert body["period"]["from"] == "2026-09-01" and body["period"]["preset"] is None
    series = widget(body, "won_vs_target")
    assert [b["key"] for b in series["buckets"]] == ["2026-09", "2026-10", "2026-11"]
    assert series["buckets"][1] == {"key": "2026-10", "from": "2026-10-01",
                                    "to": "2026-10-31"}
    drawn = {s["name"]: s["values"] for s in series["series"]}
    assert drawn == {"won": [Decimal("0.00"), Decimal("2000.05"), Decimal("11699.10")],
                     "target": [Decimal("0.00"), Decimal("1500.00"), Decimal("2000.00")]}


async def test_presets_follow_the_injected_clock(shop: Shop) -> None:
    # within the 30 days the test tokens live
    shop.services.clock.set(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    body = await figures(shop.admin, period="last_month")
    assert body["period"]["from"] == "2026-11-01" and body["period"]["to"] == "2026-11-30"
    assert widget(body, "won_amount")["value"] == Decimal("11699.10")
    assert widget(await figures(shop.admin), "won_amount")["value"] == Decimal("0.00")
    quarter = await figures(shop.admin, period="this_quarter")
    assert quarter["period"]["from"] == "2026-10-01"
    assert widget(quarter, "won_amount")["value"] == Decimal("13699.15")


async def test_extra_filter_narrows_the_entities_that_have_its_fields(shop: Shop) -> None:
    body = await figures(shop.admin, filter=json.dumps({"==": [{"var": "region"}, "east"]}))
    won = widget(body, "won_amount")
    assert won["filtered"] == ["deal"] and won["value"] == Decimal("1700.10")  # D1 + D6
    assert widget(body, "deals")["value"] == 3
    pipeline = widget(body, "pipeline")  # leads have no region: left alone, and said so
    assert pipeline["filtered"] == ["deal"]
    assert [s["value"] for s in pipeline["steps"]] == [10, 3, 2]
    assert widget(body, "leads_by_day")["filtered"] == []


async def test_an_open_period_buckets_the_dates_the_records_cover(shop: Shop) -> None:
    body = await figures(shop.admin, period="all")
    assert body["period"] == {"preset": "all", "from": None, "to": None,
                              "timezone": "Asia/Shanghai"}
    days = widget(body, "leads_by_day")
    assert values(days["rows"], "leads") == [("2026-11-01", 2), ("2026-11-02", 8)]
    assert widget(body, "won_amount")["value"] == Decimal("13699.15")  # every won deal
    series = widget(body, "won_vs_target")  # a time series needs both ends
    assert series["available"] is False
    assert series["reason"] == "A time series needs a period with a start and an end"
