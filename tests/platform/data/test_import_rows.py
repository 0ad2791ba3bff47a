"""Importing records through the HTTP API: headers by name or label, values coerced as the
API does, lookups by a unique field, every refused row reported, dry runs and upserts."""

from __future__ import annotations

import httpx
from sales_data import CONTRACTS, CUSTOMERS, import_csv


async def _customers(api: httpx.AsyncClient) -> dict[str, dict]:
    listed = await api.get(CUSTOMERS, params={"limit": 1000})
    assert listed.status_code == 200, listed.text
    return {item["code"]: item for item in listed.json()["items"]}


async def test_rows_are_imported_with_the_api_coercion(sales: httpx.AsyncClient) -> None:
    response = await import_csv(sales, "customer", [
        ["name", "code", "tier", "credit_limit", "active", "since", "email", "owner", "tags"],
        ["华为", "C001", "vip", "1,200,000.50", "是", "2024/03/01", "hw@example.com",
         "admin@example.com", "key; new"],
        ["Acme", "C002", "Normal", "", "no", "", "", "", ""],
    ])
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["created"], report["refused"]) == (2, 2, 0)
    assert report["errors"] == []
    found = await _customers(sales)
    assert found["C001"]["tier"] == "vip"
    assert found["C001"]["credit_limit"] == 1200000.5
    assert found["C001"]["active"] is True
    assert found["C001"]["since"] == "2024-03-01"
    assert found["C001"]["tags"] == ["key", "new"]
    assert found["C001"]["owner"] is not None
    assert found["C002"]["tier"] == "normal"  # an option by its label
    assert found["C002"]["active"] is False


async def test_chinese_labels_as_headers_and_options(sales: httpx.AsyncClient) -> None:
    response = await import_csv(sales, "customer", [
        ["名称", "编码", "等级", "有效", "标签"],
        ["腾讯", "C100", "重要客户", "是", "重点；新客户"],
    ])
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
    tencent = (await _customers(sales))["C100"]
    assert (tencent["name"], tencent["tier"], tencent["tags"]) == ("腾讯", "vip", ["key", "new"])
    english = await import_csv(sales, "customer", [["Name", "Code", "Tier"],
                                                   ["Baidu", "C101", "VIP"]])
    assert english.json()["created"] == 1


async def test_every_refused_row_is_reported_and_the_others_imported(
        sales: httpx.AsyncClient) -> None:
    await import_csv(sales, "customer", [["name", "code"], ["Old", "C009"]])
    response = await import_csv(sales, "customer", [
        ["name", "code", "email", "tier", "credit_limit"],
        ["Good one", "C010", "a@example.com", "", ""],
        ["Bad email", "C011", "not-an-email", "", ""],
        ["", "C012", "", "", ""],
        ["Taken", "C009", "", "", ""],
        ["Twice", "C010", "", "", ""],
        ["Bad option", "C013", "", "gold", "abc"],
        ["Good two", "C014", "", "", "12.5"],
    ])
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["created"], report["refused"]) == (7, 2, 5)
    by_row = {}
    for error in report["errors"]:
        by_row.setdefault(error["row"], []).append((error["field"], error["code"]))
    assert by_row == {
        3: [("email", "not_an_email")],
        4: [("name", "required")],
        5: [("code", "unique")],
        6: [("code", "unique")],
        7: [("tier", "not_an_option"), ("credit_limit", "not_a_number")],
    }
    messages = {e["row"]: e["message"] for e in report["errors"]}
    assert messages[4] == "Name is required"
    assert sorted(await _customers(sales)) == ["C009", "C010", "C014"]


async def test_row_messages_follow_the_readers_language(sales: httpx.AsyncClient) -> None:
    response = await sales.post(
        f"{CUSTOMERS}/import", content="名称,邮箱\n,x\n".encode(),
        headers={"Content-Type": "text/csv", "Accept-Language": "zh-CN"})
    errors = response.json()["errors"]
    assert {e["message"] for e in errors} == {"名称为必填项", "邮箱必须是有效的邮箱地址"}
    assert {e["column"] for e in errors} == {"名称", "邮箱"}


async def test_lookups_by_a_unique_field_or_by_id(sales: httpx.AsyncClient) -> None:
    await import_csv(sales, "customer", [["name", "code"], ["华为", "HW"], ["腾讯", "TX"]])
    ids = {code: item["id"] for code, item in (await _customers(sales)).items()}
    response = await import_csv(sales, "contract", [
        ["title", "customer.code", "amount"],
        ["框架协议", "HW", "200000"],
        ["Support", "TX", "5000"],
        ["Nobody's", "XX", "1"],
        ["By id", f"#{ids['TX']}", "2"],
    ])
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["refused"]) == (3, 1)
    [error] = report["errors"]
    assert (error["row"], error["field"], error["column"]) == (4, "customer", "customer.code")
    assert error["message"] == "Customer: there is no Customer with Code 'XX'"
    by_label = await sales.post(
        f"{CONTRACTS}/import", content="标题,客户.编码\n合同,TX\n".encode(),
        headers={"Content-Type": "text/csv"})
    assert by_label.json()["created"] == 1, by_label.text
    by_id = await import_csv(sales, "contract", [["title", "customer"], ["Plain", ids["HW"]]])
    assert by_id.json()["created"] == 1, by_id.text
    contracts = (await sales.get(CONTRACTS, params={"sort": "id"})).json()["items"]
    assert [c["customer"] for c in contracts] == [ids["HW"], ids["TX"], ids["TX"], ids["TX"],
                                                  ids["HW"]]


async def test_rules_formulas_and_the_audit_source(sales: httpx.AsyncClient) -> None:
    await import_csv(sales, "customer", [["name", "code"], ["华为", "HW"]])
    response = await import_csv(sales, "contract", [
        ["title", "customer.code", "amount"], ["Big", "HW", "250000"], ["Small", "HW", "100"]])
    assert response.json()["created"] == 2, response.text
    big, small = (await sales.get(CONTRACTS, params={"sort": "id"})).json()["items"]
    assert (big["grade"], big["amount_wan"]) == ("A", 25)
    assert (small["grade"], small["amount_wan"]) == (None, 0.01)
    history = (await sales.get(f"{CONTRACTS}/{big['id']}/history")).json()["items"]
    assert [h["source"] for h in history] == ["import"]


async def test_a_dry_run_changes_nothing(sales: httpx.AsyncClient) -> None:
    response = await import_csv(sales, "customer", [
        ["name", "code"], ["A", "D1"], ["", "D2"], ["B", "D3"]], dry_run="true")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["dry_run"], report["created"], report["refused"]) == (True, 2, 1)
    assert await _customers(sales) == {}


async def test_all_or_nothing_keeps_nothing_when_a_row_is_refused(
        sales: httpx.AsyncClient) -> None:
    rows = [["name", "code"], ["A", "N1"], ["", "N2"]]
    response = await import_csv(sales, "customer", rows, all_or_nothing="true")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["rolled_back"] is True and problem["refused"] == 1
    assert [(e["row"], e["field"]) for e in problem["errors"]] == [(3, "name")]
    assert await _customers(sales) == {}
    fine = await import_csv(sales, "customer", rows[:2], all_or_nothing="true")
    assert fine.json()["created"] == 1


async def test_upsert_by_a_unique_key(sales: httpx.AsyncClient) -> None:
    await import_csv(sales, "customer", [["name", "code", "email"],
                                         ["华为", "HW", "hw@example.com"]])
    before = (await _customers(sales))["HW"]
    response = await import_csv(sales, "customer", [
        ["code", "name", "tier", "email"],
        ["HW", "华为技术", "vip", ""],
        ["TX", "腾讯", "", ""],
    ], mode="upsert", key="code")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["updated"], report["refused"]) == (1, 1, 0)
    after = await _customers(sales)
    assert after["HW"]["id"] == before["id"]
    assert (after["HW"]["name"], after["HW"]["tier"]) == ("华为技术", "vip")
    assert after["HW"]["email"] == "hw@example.com"  # a blank cell leaves the value
    assert after["HW"]["version"] == before["version"] + 1
    history = (await sales.get(f"{CUSTOMERS}/{before['id']}/history")).json()["items"]
    assert [h["source"] for h in history] == ["import", "import"]
    by_id = await import_csv(sales, "customer", [
        ["id", "name"], [before["id"], "Huawei"], [999999, "Nobody"]], mode="upsert")
    assert by_id.json()["updated"] == 1
    assert [(e["row"], e["code"]) for e in by_id.json()["errors"]] == [(3, "not_found")]


async def test_bad_headers_refuse_the_file(sales: httpx.AsyncClient) -> None:
    response = await import_csv(sales, "customer", [["name", "cdoe", "名称"], ["A", "B", "C"]])
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["code"] for e in errors] == ["unknown_column", "duplicate_column"]
    assert "did you mean 'code'?" in errors[0]["message"]
    keyless = await import_csv(sales, "customer", [["name"], ["A"]], mode="upsert", key="code")
    assert keyless.status_code == 422
    assert keyless.json()["errors"][0]["code"] == "no_key_column"
    not_a_key = await import_csv(sales, "customer", [["name"], ["A"]], mode="upsert",
                                 key="name")
    assert not_a_key.status_code == 400
    assert await _customers(sales) == {}
