"""Bad dashboard parameters are refused as problem+json naming the parameter; static checks
refuse bad dashboard metadata at publish with readable errors."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from shop_board import DOC, Shop

BOARD = "/api/apps/shop/dashboards/sales"


@pytest.mark.parametrize(("params", "field", "text"), [
    ({"period": "next_century"}, "period", "'next_century' is not a period"),
    ({"from": "2026-13-01"}, "from", "'2026-13-01' is not a date"),
    ({"to": "yesterday"}, "to", "'yesterday' is not a date"),
    ({"from": "0001-01-01"}, "from", "is not a date"),
    ({"from": "2026-11-30", "to": "2026-11-01"}, "from", "is after 'to'"),
    ({"period": "this_month", "from": "2026-11-01"}, "period", "not both"),
    ({"from": "1990-01-01", "to": "2026-01-01"}, "to", "longer than"),
    ({"filter": "{not json"}, None, "not valid JSON Logic"),
    ({"filter": '{"==": [{"var": "colour"}, "red"]}'}, "filter", "fits no entity"),
    ({"filter": '{"nonsense_op": [1]}'}, "filter", "fits no entity"),
])
async def test_bad_parameters_are_problems(shop: Shop, params: dict[str, str],
                                           field: str | None, text: str) -> None:
    response = await shop.admin.get(BOARD, params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if field is None:
        assert text in body["detail"]
    else:
        assert body["errors"][0]["field"] == field, body
        assert text in body["errors"][0]["message"], body


async def test_unknown_dashboards_and_apps_are_not_found(shop: Shop) -> None:
    missing = await shop.admin.get("/api/apps/shop/dashboards/nope")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "The app shop has no dashboard 'nope'"
    assert (await shop.admin.get("/api/apps/nope/dashboards")).status_code == 404


def _with_dashboard(widgets: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DOC)
    doc["dashboards"] = {"bad": {"label": "Bad", "widgets": widgets, **more}}
    return doc


async def _refusal(api: httpx.AsyncClient, doc: dict[str, Any]) -> dict[str, str]:
    api.headers["Accept-Language"] = "en"
    response = await api.post("/api/apps", json={"slug": "broken", "metadata": doc})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["message"] for e in response.json()["errors"]}


async def test_static_checks_refuse_bad_references(api: httpx.AsyncClient) -> None:
    errors = await _refusal(api, _with_dashboard([
        {"kind": "metric", "name": "a", "label": "A", "entity": "dael"},
        {"kind": "metric", "name": "b", "label": "B", "entity": "deal", "aggregate": "sum",
         "field": "amout"},
        {"kind": "metric", "name": "c", "label": "C", "entity": "deal", "aggregate": "sum",
         "field": "name"},
        {"kind": "metric", "name": "d", "label": "D", "entity": "deal", "aggregate": "avg"},
        {"kind": "metric", "name": "e", "label": "E", "entity": "deal",
         "date_field": "amount"},
        {"kind": "metric", "name": "e", "label": "E again", "entity": "deal",
         "filter": {"==": [{"var": "stag"}, "won"]}},
    ], roles=["ghost"]))
    base = "dashboards.bad"
    assert errors[f"{base}.roles[0]"] == "there is no role 'ghost' in this app"
    assert errors[f"{base}.widgets[0].entity"] == "there is no entity 'dael' in this app"
    assert errors[f"{base}.widgets[1].field"] == \
        "deal has no field 'amout'; did you mean 'amount'?"
    assert errors[f"{base}.widgets[2].field"] == "sum needs a number, and 'name' is text"
    assert errors[f"{base}.widgets[3].field"] == "avg needs a field or an expression"
    assert errors[f"{base}.widgets[4].date_field"] == \
        "'amount' is currency, not a date or datetime"
    assert errors[f"{base}.widgets[5].name"] == "the name 'e' is used twice in this dashboard"
    assert any(k.startswith(f"{base}.widgets[5].filter") and "stag" in v
               for k, v in errors.items()), errors


async def test_static_checks_refuse_widgets_that_do_not_fit(api: httpx.AsyncClient) -> None:
    errors = await _refusal(api, _with_dashboard([
        {"kind": "breakdown", "name": "a", "label": "A", "entity": "deal",
         "group_by": "closed_on", "measures": [{"name": "n"}]},
        {"kind": "breakdown", "name": "b", "label": "B", "entity": "deal",
         "group_by": "stage", "bucket": "month", "sort": "-total",
         "measures": [{"name": "n"}]},
        {"kind": "funnel", "name": "c", "label": "C",
         "stages": {"entity": "deal", "field": "amount"}},
        {"kind": "funnel", "name": "d", "label": "D"},
        {"kind": "series", "name": "e", "label": "E",
         "series": [{"name": "s", "entity": "deal"}]},
        {"kind": "metric", "name": "f", "label": "F", "entity": "deal", "aggregate": "sum",
         "expression": "amount *"},
        {"kind": "ratio", "name": "g", "label": "G", "numerator": {"entity": "deal"},
         "denominator": {"entity": "deal", "aggregate": "max", "field": "name"}},
        {"kind": "breakdown", "name": "h", "label": "H", "entity": "deal",
         "group_by": "stage", "bins": [10, 50], "measures": [{"name": "n"}]},
        {"kind": "breakdown", "name": "i", "label": "I", "entity": "deal",
         "group_by": "amount", "bins": [100, 100], "measures": [{"name": "n"}]},
    ]))
    base = "dashboards.bad.widgets"
    assert errors[f"{base}[0].bucket"].startswith("grouping by the date 'closed_on' needs")
    assert errors[f"{base}[1].bucket"] == "buckets apply to date and datetime groups only"
    assert errors[f"{base}[1].sort"] == "'-total' is not 'group' or a measure of this " \
        "widget (n)"
    assert errors[f"{base}[2].stages.field"] == \
        "a stage funnel needs a select field, and 'amount' is currency"
    assert errors[f"{base}[3]"] == "a funnel needs either steps or stages (exactly one)"
    assert errors[f"{base}[4].series[0].date_field"] == \
        "a series measure needs a date_field to place it in time"
    assert any(k.startswith(f"{base}[5].expression") for k in errors), errors
    assert errors[f"{base}[6].denominator.field"] == \
        "max needs a number or a date, and 'name' is text"
    assert errors[f"{base}[7].bins"] == "bins apply to number groups only; 'stage' is select"
    assert errors[f"{base}[8].bins"] == "the bin edges must rise strictly, e.g. [0, 100, 500]"


async def test_schema_errors_name_the_bad_kind(api: httpx.AsyncClient) -> None:
    errors = await _refusal(api, _with_dashboard([
        {"kind": "pie_chart", "name": "a", "label": "A"},
        {"kind": "metric", "name": "b", "label": "B", "entity": "deal", "aggregate": "total"},
    ]))
    assert "'pie_chart' is not a valid kind" in errors["dashboards.bad.widgets[0].kind"]
    assert "'total'" in errors["dashboards.bad.widgets[1].aggregate"]
