"""Numbers and dates as a Chinese spreadsheet writes them, imported from CSV (GB18030, as
Excel saves it on Chinese Windows) and XLSX: unpadded dates, thousands separators, money
marks, full-width digits, percentages; what has two readings is refused per row and field,
in the reader's language."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
from openpyxl import Workbook
from sales_data import label

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEALS = "/api/apps/books/records/deal"
DOC: dict[str, Any] = {
    "app": {"label": label("账本", "Books"), "timezone": "Asia/Shanghai"},
    "entities": {"deal": {"label": label("交易", "Deal"), "fields": {
        "name": {"type": "text", "label": label("名称", "Name"), "required": True},
        "amount": {"type": "currency", "label": label("金额", "Amount")},
        "weight": {"type": "decimal", "label": label("重量", "Weight")},
        "units": {"type": "integer", "label": label("数量", "Units")},
        "discount": {"type": "percent", "label": label("折扣", "Discount")},
        "signed_on": {"type": "date", "label": label("签约日期", "Signed on")},
        "signed_at": {"type": "datetime", "label": label("签约时间", "Signed at")},
        "paid": {"type": "boolean", "label": label("已付", "Paid")}}}},
}
HEADER = ["名称", "金额", "重量", "数量", "折扣", "签约日期", "签约时间", "已付"]


async def _books(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/apps", json={"slug": "books", "metadata": DOC})
    assert created.status_code == 201, created.text


async def _import(api: httpx.AsyncClient, content: bytes, kind: str,
                  locale: str = "zh-CN") -> dict[str, Any]:
    response = await api.post(f"{DEALS}/import", content=content, headers={
        "Content-Type": kind, "Accept-Language": locale})
    assert response.status_code == 200, response.text
    return response.json()


async def _deals(api: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    items = (await api.get(DEALS, params={"limit": 100})).json()["items"]
    return {item["name"]: item for item in items}


def _csv(rows: list[list[str]]) -> bytes:
    return "\r\n".join(",".join(f'"{cell}"' for cell in row) for row in rows).encode(
        "gb18030")


async def test_a_chinese_excel_csv_imports(api: httpx.AsyncClient) -> None:
    await _books(api)
    report = await _import(api, _csv([
        HEADER,
        ["甲", "1,234.50", "１２３４．５", "1,200", "12.5%", "2025/8/12", "2025/8/12 9:05", "是"],
        ["乙", "¥1,234.50", "0.5", "３", "８％", "2025年8月12日", "2025年8月12日 下午3:05", "√"],
        ["丙", "￥1,234.50", "2", "1.2万", "10", "2025-8-12", "2025-8-12 21:05:30", "否"],
        ["丁", "1,234.50元", "(1,234.5)", "3亿", "", "2025.8.12", "2025.8.12", "×"],
        ["戊", "1.2万元", "", "", "", "２０２５／８／１２", "2025/8/12 9:05 PM", ""],
    ]), "text/csv")
    assert report["errors"] == [] and report["created"] == 5, report
    deals = await _deals(api)
    assert {Decimal(str(d["amount"])) for d in deals.values()} == {
        Decimal("1234.50"), Decimal("12000.00")}
    assert [Decimal(str(deals[n]["weight"])) for n in "甲乙丙丁"] == [
        Decimal("1234.5"), Decimal("0.5"), Decimal(2), Decimal("-1234.5")]
    assert [deals[n]["units"] for n in "甲乙丙丁"] == [1200, 3, 12000, 300_000_000]
    assert [deals[n]["discount"] for n in "甲乙丙"] == [12.5, 8, 10]
    assert {d["signed_on"] for d in deals.values()} == {date(2025, 8, 12).isoformat()}
    assert [deals[n]["signed_at"] for n in "甲乙丙丁戊"] == [
        "2025-08-12T01:05:00Z", "2025-08-12T07:05:00Z", "2025-08-12T13:05:30Z",
        "2025-08-11T16:00:00Z", "2025-08-12T13:05:00Z"]  # Shanghai wall-clock times
    assert [deals[n]["paid"] for n in "甲乙丙丁戊"] == [True, True, False, False, None]


async def test_what_has_two_readings_is_refused_per_row_and_field(
        api: httpx.AsyncClient) -> None:
    await _books(api)
    rows = [
        HEADER,
        ["好", "1,234.50", "", "", "", "2025/8/12", "", ""],
        ["月日", "", "", "", "", "8/12/2025", "", ""],
        ["日月", "", "", "", "", "12/8/2025", "12/8/2025 9:05", ""],
        ["欧式", "1.234,50", "1,23", "", "", "", "", ""],
        ["美元", "$1,234.50", "", "", "", "", "", ""],
        ["百分", "", "12%", "", "", "", "", ""],
    ]
    for locale in ("zh-CN", "en"):
        report = await _import(api, _csv(rows), "text/csv", locale)
        problems = {(e["row"], e["field"]): e for e in report["errors"]}
        assert sorted(problems) == [(3, "signed_on"), (4, "signed_at"), (4, "signed_on"),
                                    (5, "amount"), (5, "weight"), (6, "amount"),
                                    (7, "weight")], report
        assert {e["code"] for e in report["errors"]} == {
            "not_a_date", "not_a_datetime", "not_a_number"}
        if locale == "zh-CN":
            assert problems[(3, "signed_on")]["message"] == (
                "签约日期：“8/12/2025”不是日期（请年份在前，如 2025-08-12、2025/8/12 或 "
                "2025年8月12日）")
            assert problems[(3, "signed_on")]["column"] == "签约日期"
            assert problems[(5, "amount")]["message"].startswith("金额：“1.234,50”不是数字")
        else:
            assert problems[(3, "signed_on")]["message"] == (
                "Signed on: '8/12/2025' is not a date (write the year first: 2025-08-12, "
                "2025/8/12 or 2025年8月12日)")
            assert problems[(6, "amount")]["message"].startswith(
                "Amount: '$1,234.50' is not a number")
    assert sorted(await _deals(api)) == ["好"]  # once per run: the good row each time


async def test_an_xlsx_keeps_what_its_cells_show(api: httpx.AsyncClient) -> None:
    await _books(api)
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["甲", 1234.5, "1,234.5", "1,200", 0.125, datetime(2025, 8, 12),
                  datetime(2025, 8, 12, 9, 5), True])
    sheet.append(["乙", "¥1,234.50", 0.25, 3, "8%", "2025/8/12", "2025/8/12 9:05", "是"])
    sheet["E2"].number_format = "0.0%"  # 12.5% shown, 0.125 kept
    sheet["C3"].number_format = "0%"  # a weight shown as 25%: the number itself
    buffer = io.BytesIO()
    book.save(buffer)
    report = await _import(api, buffer.getvalue(), XLSX_TYPE)
    assert report["errors"] == [] and report["created"] == 2, report
    deals = await _deals(api)
    assert (deals["甲"]["discount"], deals["乙"]["discount"]) == (12.5, 8)
    assert (deals["甲"]["weight"], deals["乙"]["weight"]) == (1234.5, 0.25)
    assert deals["甲"]["amount"] == deals["乙"]["amount"] == 1234.5
    assert deals["甲"]["signed_on"] == deals["乙"]["signed_on"] == "2025-08-12"
    assert deals["甲"]["signed_at"] == deals["乙"]["signed_at"] == "2025-08-12T01:05:00Z"


async def test_the_records_api_reads_them_the_same_way(api: httpx.AsyncClient) -> None:
    await _books(api)
    created = await api.post(DEALS, json={
        "name": "接口", "amount": "¥1,234.50", "discount": "12.5%", "units": "1.2万",
        "signed_on": "2025年8月12日", "signed_at": "2025/8/12 9:05"})
    assert created.status_code == 201, created.text
    deal = created.json()
    assert (deal["amount"], deal["discount"], deal["units"]) == (1234.5, 12.5, 12000)
    assert (deal["signed_on"], deal["signed_at"]) == ("2025-08-12", "2025-08-12T01:05:00Z")
    refused = await api.post(DEALS, headers={"Accept-Language": "en"}, json={
        "name": "x", "signed_on": "12/8/2025"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "signed_on"
