"""Values no column can hold — ids and whole numbers beyond 64 bits, ids of zero or below,
text where an id belongs, instants beyond the calendar — are a 422 naming the field,
through every way in (POST, PATCH, ``_bulk``, list filters), on both databases. In the CRM
template, where formulas and rules read a lookup before the save, such a value was a 500."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fixture_kit import if_match, problem_of
from lab_app import LAB, create, errors_by_field

HUGE = 406848403479656726528  # the value the field report sent
EN = {"Accept-Language": "en"}
BEYOND: list[tuple[str, Any, str]] = [
    ("customer", HUGE, "not_a_record_id"), ("customer", 2**63, "not_a_record_id"),
    ("customer", -3, "not_a_record_id"), ("customer", 0, "not_a_record_id"),
    ("customer", "2025-01-01T00:00:00", "not_a_record_id"),
    ("owner", HUGE, "not_a_record_id"), ("department", -1, "not_a_record_id"),
    ("quantity", HUGE, "too_large"), ("weight", "1e30", "too_many_digits"),
    ("price", 10**40, "too_many_digits"), ("title", "x" * 21, "too_long"),
    ("meeting", "0001-01-01T00:00:00", "moment_out_of_range"),
    ("meeting", "9999-12-31T23:00:00-14:00", "moment_out_of_range"),
]


def _refused(response: httpx.Response, field: str, code: str) -> None:
    body = problem_of(response, 422)
    errors = errors_by_field(body)
    assert field in errors, body
    assert errors[field][0]["code"] == code, body


async def test_a_record_write_refuses_what_no_column_holds(lab: httpx.AsyncClient) -> None:
    record = await create(lab, "sample", {"title": "kept"})
    url = f"{LAB}/sample/{record['id']}"
    for field, value, code in BEYOND:
        _refused(await lab.post(f"{LAB}/sample", headers=EN,
                                json={"title": "t", field: value}), field, code)
        _refused(await lab.post(f"{LAB}/sample/_bulk", headers=EN,
                                json=[{"title": "t"}, {"title": "u", field: value}]),
                 field, code)
        _refused(await lab.patch(url, headers={**EN, **if_match(record)},
                                 json={field: value}), field, code)
    after = (await lab.get(url)).json()
    assert after["version"] == 1
    assert (await lab.get(f"{LAB}/sample")).json()["items"] == [after]


async def test_messages_name_the_field_in_the_readers_language(
        lab: httpx.AsyncClient) -> None:
    body = {"title": "t", "customer": HUGE, "meeting": "0001-01-01 00:00"}
    english = errors_by_field(problem_of(await lab.post(f"{LAB}/sample", headers=EN,
                                                        json=body), 422))
    assert english["customer"][0]["message"] == (
        f"Customer: '{HUGE}' is not a record id (a whole number from 1 to "
        "9223372036854775807)")
    assert english["meeting"][0]["message"] == (
        "Meeting must lie between 0001-01-02 and 9999-12-30")
    chinese = errors_by_field(problem_of(await lab.post(
        f"{LAB}/sample", headers={"Accept-Language": "zh-CN"}, json=body), 422))
    assert chinese["customer"][0]["message"].startswith(f"客户：“{HUGE}”不是记录 ID")
    assert chinese["meeting"][0]["message"] == "会议时间必须在 0001-01-02 至 9999-12-30 之间"


async def test_a_filter_refuses_what_no_column_holds(lab: httpx.AsyncClient) -> None:
    await create(lab, "sample", {"title": "t", "quantity": 3})
    for rule, field in [({"==": [{"var": "id"}, HUGE]}, "id"),
                        ({"==": [{"var": "id"}, -HUGE]}, "id"),
                        ({"==": [{"var": "customer"}, 2**63]}, "customer"),
                        ({">": [{"var": "quantity"}, HUGE]}, "quantity"),
                        ({"<": [HUGE, {"var": "quantity"}]}, "quantity"),
                        ({"in": [{"var": "id"}, [1, HUGE]]}, "id"),
                        ({"==": [{"var": "customer.id"}, HUGE]}, "customer.id")]:
        response = await lab.get(f"{LAB}/sample", headers=EN,
                                 params={"filter": json.dumps(rule)})
        body = problem_of(response, 422)
        assert [e["field"] for e in body["errors"]] == [field], body
        assert body["errors"][0]["code"] == "out_of_range"
        assert "beyond what the field can hold" in body["errors"][0]["message"]
    # beside a decimal column or inside arithmetic a large number is exact, and merely
    # matches nothing
    for rule in ({"==": [{"var": "weight"}, 10**40]},
                 {">": [{"+": [{"var": "quantity"}, HUGE]}, 0]},
                 {"==": [{"var": "id"}, 1]}):
        response = await lab.get(f"{LAB}/sample", params={"filter": json.dumps(rule)})
        assert response.status_code == 200, response.text
    assert len((await lab.get(f"{LAB}/sample", params={"filter": json.dumps(
        {">": [{"+": [{"var": "quantity"}, HUGE]}, 0]})})).json()["items"]) == 1


async def test_the_crm_refuses_them_before_its_rules_read_them(
        api: httpx.AsyncClient) -> None:
    created = await api.post("/api/apps", json={"slug": "crm", "template": "crm"})
    assert created.status_code == 201, created.text
    records = "/api/apps/crm/records"
    for entity, field, value in [("contract", "customer", HUGE),
                                 ("contract", "opportunity", 2**63),
                                 ("quote", "opportunity", HUGE),
                                 ("visit", "contract", -4),
                                 ("payment", "contract", "2025-01-01T00:00:00"),
                                 ("ticket", "contact", HUGE),
                                 ("lead", "claimed_at", "0001-01-01T00:00:00")]:
        code = "moment_out_of_range" if field.endswith("_at") else "not_a_record_id"
        _refused(await api.post(f"{records}/{entity}", json={field: value}), field, code)
        _refused(await api.post(f"{records}/{entity}/_bulk", json=[{field: value}]),
                 field, code)
