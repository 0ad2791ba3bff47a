"""Formula fields, expression defaults and conditional requirements, computed by the write
pipeline on every save (through lookups and over line items too), and their checks at
publish."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
from fixture_kit import if_match, patch_read

APP = "/api/apps/calc/records"

CALC: dict[str, Any] = {
    "app": {"label": {"zh-CN": "报价", "en": "Quotes"}},
    "entities": {
        "customer": {"label": {"zh-CN": "客户", "en": "Customer"}, "fields": {
            "name": {"type": "text", "required": True},
            "region": {"type": "select", "options": [{"value": "east"}, {"value": "north"}]},
            "discount": {"type": "percent"}}},
        "quote": {"label": {"zh-CN": "报价", "en": "Quote"}, "fields": {
            "title": {"type": "text"},
            "customer": {"type": "lookup", "ref": "customer"},
            "items": {"type": "subtable", "entity": "quote_item", "link_field": "quote"},
            "subtotal": {"type": "formula", "formula": "SUM(items.amount)",
                         "returns": "currency"},
            "total": {"type": "formula", "returns": "currency",
                      "formula": "ROUND(subtotal * (1 - BLANKVALUE(customer.discount, 0)), 2)"},
            "grade": {"type": "formula", "returns": "text",
                      "formula": 'IF(total > 100000, "A", "B")'},
            "region": {"type": "formula", "returns": "text", "formula": "customer.region"},
            "quoted_on": {"type": "date", "default": {"today": []}},
            "status": {"type": "select", "options": [{"value": "draft"}, {"value": "lost"}]},
            "lost_reason": {"type": "text", "label": {"zh-CN": "丢单原因", "en": "Lost reason"},
                            "required_if": {"==": [{"var": "status"}, "lost"]}}}},
        "quote_item": {"label": {"zh-CN": "报价明细", "en": "Quote item"}, "fields": {
            "quote": {"type": "lookup", "ref": "quote", "required": True},
            "quantity": {"type": "integer"},
            "unit_price": {"type": "currency"},
            "amount": {"type": "formula", "formula": "quantity * unit_price",
                       "returns": "currency"}}},
    },
}


async def _post(api: httpx.AsyncClient, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(f"{APP}/{entity}", json=body)
    assert response.status_code == 201, response.text
    return exact(response)


def exact(response: httpx.Response) -> dict[str, Any]:
    return json.loads(response.text, parse_float=Decimal)


async def test_formulas_follow_their_inputs(api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/apps", json={"slug": "calc", "metadata": CALC})
            ).status_code == 201
    customer = await _post(api, "customer", {"name": "华为", "region": "east",
                                             "discount": "0.1"})
    quote = await _post(api, "quote", {"title": "服务器", "customer": customer["id"]})
    assert quote["quoted_on"] == "2026-11-02"  # the default: today in the app's zone
    assert (quote["subtotal"], quote["total"], quote["region"]) == (0, 0, "east")
    item = await _post(api, "quote_item", {"quote": quote["id"], "quantity": 3,
                                           "unit_price": "0.10"})
    assert item["amount"] == Decimal("0.30")  # exact: no binary float on the way
    await _post(api, "quote_item", {"quote": quote["id"], "quantity": 2,
                                    "unit_price": "60000"})
    # a line item does not save the quote; saving it recomputes over its items
    response = await patch_read(api, f"{APP}/quote/{quote['id']}", {"title": "服务器 x5"})
    assert response.status_code == 200, response.text
    saved = exact(response)
    assert saved["subtotal"] == Decimal("120000.30")
    assert saved["total"] == Decimal("108000.27")
    assert saved["grade"] == "A"
    # a formula field cannot be written by a client; sending it back as read is harmless
    response = await api.patch(f"{APP}/quote/{quote['id']}",
                               json={**response.json(), "grade": "Z", "title": "x"},
                               headers={"If-Match": response.headers["ETag"]})
    assert response.status_code == 200, response.text
    assert response.json()["grade"] == "A"


async def test_required_if_and_formula_checks(api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/apps", json={"slug": "calc", "metadata": CALC})
            ).status_code == 201
    quote = await _post(api, "quote", {"title": "t", "status": "draft"})
    refused = await api.patch(f"{APP}/quote/{quote['id']}", json={"status": "lost"},
                              headers={"accept-language": "en", **if_match(quote)})
    assert refused.status_code == 422, refused.text
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("lost_reason", "required")]
    assert (await api.patch(f"{APP}/quote/{quote['id']}", headers=if_match(quote),
                            json={"status": "lost", "lost_reason": "价格"})).status_code == 200

    broken = {**CALC, "entities": {**CALC["entities"], "quote": {
        **CALC["entities"]["quote"], "fields": {
            **CALC["entities"]["quote"]["fields"],
            "a": {"type": "formula", "formula": "b + 1", "returns": "integer"},
            "b": {"type": "formula", "formula": "a + 1", "returns": "integer"},
            "c": {"type": "formula", "formula": "totl * 2", "returns": "currency"},
            "d": {"type": "text", "required_if": {"==": [{"var": "stauts"}, "lost"]}}}}}}
    response = await api.post("/api/apps", json={"slug": "calc2", "metadata": broken},
                              headers={"accept-language": "en"})
    assert response.status_code == 422, response.text
    errors = {e["field"].split(" ")[0]: e["message"] for e in response.json()["errors"]}
    assert "circle" in errors["entities.quote.fields"]
    assert "total" in errors["entities.quote.fields.c.formula"]  # did you mean
    assert "status" in errors["entities.quote.fields.d.required_if"]
