"""Exporting records through the HTTP API, and what an export gives back to an import."""

from __future__ import annotations

import io

import httpx
from openpyxl import load_workbook
from sales_data import CONTRACTS, CUSTOMERS, DOC, import_csv, read_csv

from loom.renderers.spreadsheets import XLSX_TYPE


async def _seed(api: httpx.AsyncClient) -> None:
    customers = await import_csv(api, "customer", [
        ["name", "code", "tier", "credit_limit", "active", "since", "email", "owner", "tags",
         "notes"],
        ["华为", "HW", "vip", "1200000.50", "true", "2024-03-01", "hw@example.com",
         "admin@example.com", "key;new", "=HYPERLINK(\"http://evil\")"],
        ["Acme, Inc.", "AC", "normal", "", "false", "", "", "", "", "多行\n备注"],
    ])
    assert customers.json()["created"] == 2, customers.text
    contracts = await import_csv(api, "contract", [
        ["title", "customer.code", "amount", "signed_at"],
        ["框架协议", "HW", "250000", "2026-11-02 09:30"],
        ["Support", "AC", "99.90", ""],
    ])
    assert contracts.json()["created"] == 2, contracts.text


async def test_csv_export_with_labels_in_the_readers_language(sales: httpx.AsyncClient) -> None:
    await _seed(sales)
    response = await sales.get(f"{CUSTOMERS}/export", params={"sort": "code"},
                               headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="sales-customer.csv"' in response.headers["content-disposition"]
    header, acme, huawei = read_csv(response.content)
    assert header == ["编号", "名称", "编码", "等级", "信用额度", "有效", "签约日期", "邮箱",
                      "负责人", "标签", "备注", "创建时间", "创建人", "更新时间", "更新人"]
    assert huawei[1:11] == ["华为", "HW", "重要客户", "1200000.50", "是", "2024-03-01",
                            "hw@example.com", "admin@example.com", "重点; 新客户",
                            "'=HYPERLINK(\"http://evil\")"]
    assert acme[1:4] == ["Acme, Inc.", "AC", "普通客户"]
    assert acme[10] == "多行\n备注"
    assert huawei[11] == "2026-11-02T09:30:00+08:00"  # the app's time zone, ISO 8601


async def test_csv_export_with_names_and_raw_values(sales: httpx.AsyncClient) -> None:
    await _seed(sales)
    response = await sales.get(f"{CONTRACTS}/export", params={
        "header": "names", "values": "raw", "sort": "-amount",
        "fields": "title,customer,amount,signed_at,amount_wan"})
    assert response.status_code == 200, response.text
    rows = read_csv(response.content)
    assert rows[0] == ["id", "title", "customer.code", "amount", "signed_at", "amount_wan"]
    assert [row[1:] for row in rows[1:]] == [
        ["框架协议", "HW", "250000.00", "2026-11-02T09:30:00+08:00", "25.0000"],
        ["Support", "AC", "99.90", "", "0.0100"]]


async def test_export_then_import_gives_the_same_records(sales: httpx.AsyncClient) -> None:
    await _seed(sales)
    assert (await sales.post("/api/apps", json={"slug": "copy", "metadata": DOC})
            ).status_code == 201
    for entity in ("customer", "contract"):
        for format, media in (("csv", "text/csv"), ("xlsx", XLSX_TYPE)):
            exported = await sales.get(f"/api/apps/sales/records/{entity}/export",
                                       params={"format": format, "sort": "id"})
            assert exported.status_code == 200, exported.text
            if format == "xlsx" and entity == "customer":
                continue  # the CSV already made the customers of the copy
            imported = await sales.post(
                f"/api/apps/copy/records/{entity}/import", content=exported.content,
                headers={"Content-Type": media})
            assert imported.status_code == 200, imported.text
            assert imported.json()["refused"] == 0, imported.json()
    def same(items: list[dict]) -> list[dict]:
        dropped = ("id", "customer", "created_at", "updated_at", "version")
        return [{k: v for k, v in item.items() if k not in dropped} for item in items]
    for entity in ("customer", "contract"):
        original = (await sales.get(f"/api/apps/sales/records/{entity}",
                                    params={"sort": "id"})).json()["items"]
        copied = (await sales.get(f"/api/apps/copy/records/{entity}",
                                  params={"sort": "id"})).json()["items"]
        if entity == "contract":
            assert same(copied) == same(original) * 2  # once from the CSV, once from XLSX
        else:
            assert same(copied) == same(original)


async def test_xlsx_export_keeps_types_and_never_writes_formulas(
        sales: httpx.AsyncClient) -> None:
    await _seed(sales)
    response = await sales.get(f"{CUSTOMERS}/export", params={"format": "xlsx",
                                                                "sort": "code"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX_TYPE
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    assert sheet.title == "Customer"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("ID", "Name", "Code", "Tier")
    huawei = rows[2]
    assert huawei[4] == 1200000.5 and huawei[6].isoformat() == "2024-03-01T00:00:00"
    notes = sheet.cell(row=3, column=11)
    assert notes.data_type == "s" and notes.value == "=HYPERLINK(\"http://evil\")"


async def test_export_refuses_bad_lists(sales: httpx.AsyncClient) -> None:
    bad_filter = await sales.get(f"{CUSTOMERS}/export", params={"filter": "{nope"})
    assert bad_filter.status_code == 400
    bad_field = await sales.get(f"{CUSTOMERS}/export", params={"fields": "name,nope"})
    assert bad_field.status_code == 400
    bad_sort = await sales.get(f"{CUSTOMERS}/export", params={"sort": "nope"})
    assert bad_sort.status_code == 400
    no_entity = await sales.get("/api/apps/sales/records/nope/export")
    assert no_entity.status_code == 404
    assert bad_filter.headers["content-type"].startswith("application/problem+json")


async def test_an_empty_list_exports_its_header(sales: httpx.AsyncClient) -> None:
    response = await sales.get(f"{CUSTOMERS}/export", params={
        "filter": '{"==": [{"var": "code"}, "none"]}', "fields": "name", "header": "names"})
    assert read_csv(response.content) == [["id", "name"]]
