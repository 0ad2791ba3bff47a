"""Lists through the API: sorting by several fields (blanks last, ties by id), keyset pages
that neither repeat nor skip rows while others are inserted, only the columns asked for,
capped counts, and clear refusals of a bad sort, limit or cursor."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from functools import cmp_to_key
from typing import Any

import httpx
import pytest
from fixture_kit import problem_of
from lab_app import LAB

from loom.platform.records import reads

SAMPLE = f"{LAB}/sample"
ROWS = [  # (title, stage, price, due)
    ("a", "won", "10", "2026-01-03"), ("b", None, "10", None), ("c", "new", None, "2026-01-01"),
    ("d", "won", "5", "2026-01-03"), ("e", "new", "10", None), ("f", None, None, "2026-01-02"),
    ("g", "won", "10", "2026-01-01"), ("h", "new", "7.5", "2026-01-02"), ("i", None, "5", None),
]


@pytest.fixture
async def rows(lab: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await lab.post(f"{SAMPLE}/_bulk", json=[
        {"title": title, "stage": stage, "price": price, "due": due}
        for title, stage, price, due in ROWS])
    assert response.status_code == 201, response.text
    return response.json()["items"]


def expected_order(items: list[dict[str, Any]], sort: str) -> list[str]:
    """The order the API promises: each key asc or desc with blanks last, then id."""
    keys = [(part.lstrip("-"), part.startswith("-")) for part in sort.split(",")]

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for name, descending in keys:
            x, y = a[name], b[name]
            if isinstance(x, float | int) or isinstance(y, float | int):
                x = None if x is None else Decimal(str(x))
                y = None if y is None else Decimal(str(y))
            if x == y:
                continue
            if x is None or y is None:
                return 1 if x is None else -1
            return (1 if x > y else -1) * (-1 if descending else 1)
        return a["id"] - b["id"]

    return [item["title"] for item in sorted(items, key=cmp_to_key(compare))]


async def titles(api: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await api.get(SAMPLE, params=params)
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def all_pages(api: httpx.AsyncClient, **params: Any) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await api.get(SAMPLE, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= int(params.get("limit", 50))
        seen += [item["title"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


SORTS = ["stage", "-stage", "stage,-price", "-price,stage,-due", "due,-title", "-due,price",
         "price,-stage,due", "-id", "title", "-created_at"]


async def test_sorts_with_blanks_and_ties(rows: list[dict[str, Any]],
                                          lab: httpx.AsyncClient) -> None:
    assert await titles(lab) == list("abcdefghi")  # by id, unless told otherwise
    for sort in SORTS:
        expected = expected_order(rows, sort)
        assert await titles(lab, sort=sort) == expected, sort
        for limit in (1, 2, 4):
            assert await all_pages(lab, sort=sort, limit=limit) == expected, (sort, limit)
    # the same order spelled with spaces and a plus
    assert await titles(lab, sort=" stage , +price") == expected_order(rows, "stage,price")


async def test_pages_while_rows_are_inserted(rows: list[dict[str, Any]],
                                             lab: httpx.AsyncClient) -> None:
    """Rows inserted behind the reader are not seen, rows ahead are; none twice."""
    sort = "-price,title"
    first = await lab.get(SAMPLE, params={"sort": sort, "limit": 3})
    page = first.json()
    seen = [item["title"] for item in page["items"]]
    assert seen == ["a", "b", "e"]  # price 10, by title
    inserted = await lab.post(f"{SAMPLE}/_bulk", json=[
        {"title": "0 behind", "price": "10"},  # sorts before "a": already passed
        {"title": "z ahead", "price": "10"},   # after "e": still to come
        {"title": "cheap", "price": "1"}, {"title": "blank"}])
    assert inserted.status_code == 201
    cursor = page["next_cursor"]
    while cursor:
        page = (await lab.get(SAMPLE, params={"sort": sort, "limit": 3,
                                              "cursor": cursor})).json()
        seen += [item["title"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor:  # and one more behind the reader on every page
            await lab.post(SAMPLE, json={"title": "00 late", "price": "99"})
    assert seen == ["a", "b", "e", "g", "z ahead", "h", "d", "i", "cheap", "blank", "c", "f"]


async def test_fields_returns_only_those(rows: list[dict[str, Any]],
                                         lab: httpx.AsyncClient) -> None:
    response = await lab.get(SAMPLE, params={"fields": "title, price", "sort": "-price"})
    items = response.json()["items"]
    assert all(set(item) == {"id", "version", "title", "price"} for item in items)
    # a sort key outside the fields still pages right, without showing up
    assert await all_pages(lab, fields="title", sort="-due,price", limit=2) == \
        expected_order(rows, "-due,price")
    with_system = (await lab.get(SAMPLE, params={"fields": "title,updated_at"})).json()
    assert set(with_system["items"][0]) == {"id", "version", "title", "updated_at"}
    refused = problem_of(await lab.get(SAMPLE, params={"fields": "title,prize"},
                                       headers={"accept-language": "en"}), 400)
    assert refused["detail"] == "'prize' is not a field of Sample"
    problem_of(await lab.get(f"{LAB}/contract", params={"fields": "lines"}), 400)


async def test_counts_are_capped(rows: list[dict[str, Any]], lab: httpx.AsyncClient,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    plain = (await lab.get(SAMPLE, params={"limit": 2})).json()
    assert "count" not in plain  # counting is asked for, never done by default
    exact = (await lab.get(SAMPLE, params={"limit": 2, "count": "true"})).json()
    assert (exact["count"], exact["count_capped"], len(exact["items"])) == (9, False, 2)
    monkeypatch.setattr(reads, "COUNT_CAP", 9)
    at_cap = (await lab.get(SAMPLE, params={"count": "true"})).json()
    assert (at_cap["count"], at_cap["count_capped"]) == (9, False)
    monkeypatch.setattr(reads, "COUNT_CAP", 4)
    capped = (await lab.get(SAMPLE, params={"count": "1", "limit": 1})).json()
    assert (capped["count"], capped["count_capped"]) == (4, True)
    assert len(capped["items"]) == 1
    empty = (await lab.get(f"{LAB}/customer", params={"count": "true"})).json()
    assert (empty["items"], empty["next_cursor"], empty["count"], empty["count_capped"]) \
        == ([], None, 0, False)


async def test_the_default_page_and_the_last_page(lab: httpx.AsyncClient) -> None:
    await lab.post(f"{SAMPLE}/_bulk", json=[{"title": f"{n:02d}"} for n in range(55)])
    page = (await lab.get(SAMPLE)).json()
    assert len(page["items"]) == 50 and page["next_cursor"]
    rest = (await lab.get(SAMPLE, params={"cursor": page["next_cursor"]})).json()
    assert [item["title"] for item in rest["items"]] == [f"{n:02d}" for n in range(50, 55)]
    assert rest["next_cursor"] is None
    exactly = (await lab.get(SAMPLE, params={"limit": 55})).json()
    assert len(exactly["items"]) == 55 and exactly["next_cursor"] is None


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


async def test_bad_sorts_limits_and_cursors_are_clear_400s(
        rows: list[dict[str, Any]], lab: httpx.AsyncClient) -> None:
    en = {"accept-language": "en"}
    sorts = {"prize": "Cannot sort by 'prize': Sample has no such field",
             "tags": "Cannot sort by 'tags' (multiselect values have no order)",
             "-extra": "Cannot sort by 'extra' (json values have no order)"}
    for sort, detail in sorts.items():
        assert problem_of(await lab.get(SAMPLE, params={"sort": sort}, headers=en),
                          400)["detail"] == detail
    for limit in ("0", "-1", "1001"):
        assert problem_of(await lab.get(SAMPLE, params={"limit": limit}, headers=en),
                          400)["detail"] == "limit must be between 1 and 1000"
    problem_of(await lab.get(SAMPLE, params={"limit": "ten"}), 422)
    problem_of(await lab.get(SAMPLE, params={"count": "perhaps"}), 422)

    page = (await lab.get(SAMPLE, params={"sort": "-price", "limit": 2})).json()
    good = page["next_cursor"]
    bad_cursors = [
        "not a cursor", "%%%", good[:-3], good + "AA", _cursor([1, 2]), _cursor({"s": 1}),
        _cursor({"s": "-price,id", "v": ["ten", 1]}),
        _cursor({"s": "-price,id", "v": [1, 2, 3]}),
        _cursor({"s": "-price,id", "v": [10, 2**63]}),
        _cursor({"s": "-price,id", "v": ["1e999999", 1]}),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ]
    for cursor in bad_cursors:
        refused = problem_of(await lab.get(SAMPLE, params={"sort": "-price", "cursor": cursor},
                                           headers=en), 400)
        assert refused["detail"] == \
            "The cursor is not valid for this list; start again without it", cursor
    # a cursor belongs to its sort
    problem_of(await lab.get(SAMPLE, params={"sort": "price", "cursor": good}), 400)
    problem_of(await lab.get(SAMPLE, params={"cursor": good}), 400)
    again = await lab.get(SAMPLE, params={"sort": "-price", "limit": 2, "cursor": good})
    assert again.status_code == 200
