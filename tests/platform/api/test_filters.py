"""List filters: the shared condition language, run as one SQL query, on both databases."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

DOC = {"app": {"label": "Filters"}, "entities": {
    "customer": {"label": {"zh-CN": "客户", "en": "Customer"}, "fields": {
        "name": {"type": "text"},
        "region": {"type": "select", "options": [{"value": "east_china"},
                                                 {"value": "north_china"}]}}},
    "deal": {"label": {"zh-CN": "商机", "en": "Deal"}, "fields": {
        "title": {"type": "text"},
        "amount": {"type": "currency"},
        "customer": {"type": "lookup", "ref": "customer"},
        "closes": {"type": "date"},
        "tags": {"type": "multiselect", "options": [{"value": "vip"}, {"value": "new"}]}}},
    "visit": {"label": "Visit", "fields": {
        "deal": {"type": "lookup", "ref": "deal"}, "score": {"type": "integer"}}}}}


@pytest.fixture
async def deals(api: httpx.AsyncClient) -> httpx.AsyncClient:
    assert (await api.post("/api/apps", json={"slug": "flt", "metadata": DOC})).status_code \
        == 201
    east = (await api.post("/api/apps/flt/records/customer",
                           json={"name": "华东", "region": "east_china"})).json()["id"]
    north = (await api.post("/api/apps/flt/records/customer",
                            json={"name": "华北", "region": "north_china"})).json()["id"]
    rows = [{"title": f"d{i}", "amount": i * 1000 if i != 5 else None,
             "customer": east if i % 2 else north, "closes": f"2026-11-0{i + 1}"}
            for i in range(6)]
    created = await api.post("/api/apps/flt/records/deal/_bulk", json=rows)
    assert created.status_code == 201, created.text
    ids = {d["title"]: d["id"] for d in created.json()["items"]}
    await api.post("/api/apps/flt/records/visit/_bulk", json=[
        {"deal": ids["d1"], "score": 3}, {"deal": ids["d1"], "score": 5},
        {"deal": ids["d2"], "score": 4}])
    return api


async def titles(api: httpx.AsyncClient, condition: Any) -> list[str]:
    response = await api.get("/api/apps/flt/records/deal",
                             params={"filter": json.dumps(condition), "sort": "title"})
    assert response.status_code == 200, response.text
    return [d["title"] for d in response.json()["items"]]


async def test_comparisons_and_blanks(deals: httpx.AsyncClient) -> None:
    assert await titles(deals, {">": [{"var": "amount"}, 2500]}) == ["d3", "d4"]
    # a comparison with a blank is false, both ways
    assert await titles(deals, {"<=": [{"var": "amount"}, 2500]}) == ["d0", "d1", "d2"]
    assert await titles(deals, {"is_blank": {"var": "amount"}}) == ["d5"]
    assert await titles(deals, {"<=": [1000, {"var": "amount"}, 3000]}) == ["d1", "d2", "d3"]


async def test_through_a_lookup_and_lists(deals: httpx.AsyncClient) -> None:
    assert await titles(deals, {"==": [{"var": "customer.region"}, "east_china"]}) == \
        ["d1", "d3", "d5"]
    assert await titles(deals, {"and": [
        {"<": [{"var": "closes"}, "2026-11-04"]},
        {"in": [{"var": "title"}, ["d0", "d2", "d9"]]}]}) == ["d0", "d2"]
    assert await titles(deals, {"!": {"in": [{"var": "title"}, ["d0", "d1"]]}}) == \
        ["d2", "d3", "d4", "d5"]


async def test_dates_relative_to_today(deals: httpx.AsyncClient) -> None:
    # the test clock says 2026-11-02 09:30 in Shanghai
    assert await titles(deals, {"<=": [{"days_until": {"var": "closes"}}, 1]}) == \
        ["d0", "d1", "d2"]
    assert await titles(deals, {"==": [{"var": "closes"}, {"today": []}]}) == ["d1"]


async def test_related_aggregates(deals: httpx.AsyncClient) -> None:
    condition = {">=": [{"related": {"entity": "visit", "via": "deal", "agg": "count"}}, 1]}
    assert await titles(deals, condition) == ["d1", "d2"]


async def test_filter_mistakes_are_clear(deals: httpx.AsyncClient) -> None:
    typo = await deals.get("/api/apps/flt/records/deal", headers={"Accept-Language": "en"},
                           params={"filter": json.dumps({">": [{"var": "amont"}, 1]})})
    assert typo.status_code == 400
    assert typo.headers["content-type"].startswith("application/problem+json")
    assert "amount" in json.dumps(typo.json()["errors"])
    broken = await deals.get("/api/apps/flt/records/deal", params={"filter": "{bad"})
    assert broken.status_code == 400
    assert "JSON" in broken.json()["detail"]
    unknown_op = await deals.get("/api/apps/flt/records/deal",
                                 params={"filter": json.dumps({"explode": [1]})})
    assert unknown_op.status_code == 400
