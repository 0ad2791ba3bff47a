"""What an import accepts as a file: multipart uploads and raw bodies, CSV in the encodings
Excel writes, real XLSX workbooks — and clear problems for everything else, never a
traceback. A big file is imported in the background, as an operation."""

from __future__ import annotations

import io
import zipfile

import httpx
from fixture_kit import finished
from openpyxl import Workbook
from sales_data import CUSTOMERS, csv_text, read_csv

from loom.platform.api.routes.data import INLINE_ROWS
from loom.platform.services import Services
from loom.renderers.spreadsheets import XLSX_TYPE

IMPORT = f"{CUSTOMERS}/import"


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def _count(api: httpx.AsyncClient) -> int:
    return len((await api.get(CUSTOMERS, params={"limit": 1000})).json()["items"])


async def test_a_multipart_upload(sales: httpx.AsyncClient) -> None:
    data = csv_text([["name", "code"], ["华为", "HW"]]).encode("utf-8")
    response = await sales.post(IMPORT, files={"file": ("customers.csv", data,
                                                        "application/vnd.ms-excel")})
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
    workbook = _xlsx([["名称", "编码", "信用额度", "签约日期"], ["腾讯", 1001, 12.5, None]])
    response = await sales.post(IMPORT, files={"file": ("客户.xlsx", workbook,
                                                        "application/octet-stream")})
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1, response.text
    tencent = (await sales.get(CUSTOMERS, params={"filter": '{"==": [{"var": "code"}, "1001"]}'}
                               )).json()["items"][0]
    assert tencent["credit_limit"] == 12.5


async def test_xlsx_cells_of_every_kind(sales: httpx.AsyncClient) -> None:
    from datetime import datetime

    body = _xlsx([["name", "code", "active", "since", "credit_limit", "tier"],
                  ["A", "X1", True, datetime(2024, 3, 1), 0.1 + 0.2, "VIP"],
                  ["B", "X2", False, "2024-03-02", 7, None]])
    response = await sales.post(IMPORT, content=body, headers={"Content-Type": XLSX_TYPE})
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2, response.text
    exported = read_csv((await sales.get(f"{CUSTOMERS}/export", params={
        "header": "names", "values": "raw", "sort": "code",
        "fields": "code,active,since,credit_limit,tier"})).content)
    assert [row[1:] for row in exported[1:]] == [["X1", "true", "2024-03-01", "0.30", "vip"],
                                                 ["X2", "false", "2024-03-02", "7.00",
                                                  "normal"]]


async def test_csv_as_excel_saves_it(sales: httpx.AsyncClient) -> None:
    gbk = "名称;编码\n华为;HW\n".encode("gbk")
    response = await sales.post(IMPORT, content=gbk, headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
    bom = "\ufeff名称\t编码\r\n腾讯\tTX\r\n\r\n".encode()
    response = await sales.post(IMPORT, content=bom,
                                headers={"Content-Type": "text/csv; charset=utf-8"})
    assert response.json()["created"] == 1, response.text
    assert await _count(sales) == 2


async def test_what_is_not_a_sheet_is_refused(sales: httpx.AsyncClient) -> None:
    cases = [
        ({"Content-Type": "application/json"}, b'{"name": "x"}', 415,
         "unsupported-media-type"),
        ({"Content-Type": XLSX_TYPE}, b"name,code\nA,B\n", 400, "bad-request"),
        ({"Content-Type": "text/csv"}, b"PK\x03\x04 zipped", 400, "bad-request"),
        ({"Content-Type": "text/csv"}, b"name\x00\x01\x02", 400, "bad-request"),
        ({"Content-Type": "text/csv"}, b"", 400, "bad-request"),
        ({"Content-Type": "text/csv"}, b"\n\n", 400, "bad-request"),
        ({"Content-Type": "text/csv; charset=klingon"}, b"name\nA\n", 400, "bad-request"),
    ]
    not_a_workbook = io.BytesIO()
    with zipfile.ZipFile(not_a_workbook, "w") as archive:
        archive.writestr("hello.txt", "hi")
    cases.append(({"Content-Type": XLSX_TYPE}, not_a_workbook.getvalue(), 400, "bad-request"))
    for headers, body, status, slug in cases:
        response = await sales.post(IMPORT, content=body, headers=headers)
        assert response.status_code == status, (headers, body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"] == f"urn:loom:problem:{slug}"
    old_excel = await sales.post(IMPORT, files={"file": ("old.xls", b"\xd0\xcf\x11\xe0",
                                                         "application/vnd.ms-excel")})
    assert old_excel.status_code == 415
    assert ".xlsx" in old_excel.json()["detail"]
    no_file = await sales.post(IMPORT, files={"other": ("a.csv", b"name\nA\n", "text/csv")})
    assert no_file.status_code == 400
    picture = await sales.post(IMPORT, files={"file": ("cat.png", b"\x89PNG", "image/png")})
    assert picture.status_code == 415
    assert await _count(sales) == 0


async def test_the_body_limit_holds_for_uploads(sales: httpx.AsyncClient,
                                                services: Services) -> None:
    services.settings.max_body_bytes = 2000
    big = csv_text([["name"], *[[f"Customer {i}"] for i in range(300)]]).encode()
    for request in ({"content": big, "headers": {"Content-Type": "text/csv"}},
                    {"files": {"file": ("big.csv", big, "text/csv")}}):
        response = await sales.post(IMPORT, **request)
        assert response.status_code == 413, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await _count(sales) == 0


async def test_a_big_file_is_imported_as_an_operation(sales: httpx.AsyncClient,
                                                      services: Services) -> None:
    """More rows than a request should wait for: 202, and the operation to follow, which
    counts the rows as they are committed and ends with the report."""
    rows = [["name", "code", "tier", "credit_limit", "since", "email"]]
    rows += [[f"客户 {i}", f"K{i:05d}", "vip" if i % 7 == 0 else "normal", f"{i}.50",
              "2025-01-01", f"c{i}@example.com"] for i in range(20_000)]
    rows[12_345][5] = "broken"  # one bad row in the middle
    body = csv_text(rows).encode()
    response = await sales.post(IMPORT, content=body, headers={"Content-Type": "text/csv"},
                                timeout=300)
    assert response.status_code == 202, response.text
    assert response.headers["location"] == response.json()["url"]
    assert response.json()["kind"] == "record_import"
    assert response.json()["params"] == {"entity": "customer", "mode": "create", "key": None,
                                         "dry_run": False, "all_or_nothing": False}
    done = await finished(sales, response.json())
    assert done["status"] == "succeeded", done
    report = done["result"]
    assert (report["rows"], report["created"], report["refused"]) == (20_000, 19_999, 1)
    assert report["errors"][0]["row"] == 12_346
    assert done["progress"]["done"] == done["progress"]["total"] == 20_000
    assert done["progress"]["step"] == {"name": "rows", "label": "Importing Customer records"}
    assert not list((services.settings.data_dir / "imports").iterdir())  # the file is gone
    exported = await sales.get(f"{CUSTOMERS}/export", params={"header": "names"},
                               timeout=300)
    assert len(read_csv(exported.content)) == 20_000


async def test_a_big_all_or_nothing_import_keeps_nothing_when_a_row_is_refused(
        sales: httpx.AsyncClient) -> None:
    rows = [["name", "code"], *[[f"客户 {i}", f"K{i:05d}"] for i in range(INLINE_ROWS + 1)]]
    rows[-1][1] = "K00003"  # the last row's code is taken by an earlier one
    response = await sales.post(IMPORT, params={"all_or_nothing": "true"},
                                content=csv_text(rows).encode(),
                                headers={"Content-Type": "text/csv",
                                         "Accept-Language": "en"})
    assert response.status_code == 202, response.text
    done = await finished(sales, response.json())
    assert done["status"] == "failed", done
    assert done["error"]["status"] == 422
    assert done["error"]["type"] == "urn:loom:problem:import-refused"
    assert done["error"]["detail"] == "1 row(s) were refused, so nothing was imported"
    assert done["result"]["rolled_back"] and done["result"]["created"] == 0
    assert [e["row"] for e in done["result"]["errors"]] == [INLINE_ROWS + 2]
    assert await _count(sales) == 0
    # as many rows as a request waits for: the report at once
    small = await sales.post(IMPORT, content=csv_text(rows[:INLINE_ROWS + 1]).encode(),
                             headers={"Content-Type": "text/csv"})
    assert small.status_code == 200, small.text
    assert small.json()["created"] == INLINE_ROWS
