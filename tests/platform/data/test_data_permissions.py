"""Exports and imports go through the one permission layer: the export and import
permissions themselves, then read reach, hidden fields and write access, as every other
path does."""

from __future__ import annotations

import httpx
from sales_data import CONTRACTS, CUSTOMERS, People, import_csv, read_csv


async def _customers_of(api: httpx.AsyncClient, people: People) -> None:
    response = await import_csv(api, "customer", [
        ["name", "code", "credit_limit", "owner"],
        ["Mine 1", "R1", "1000", "rep@example.com"],
        ["Mine 2", "R2", "2000", "rep@example.com"],
        ["Theirs", "O1", "3000", "other@example.com"],
    ])
    assert response.json()["created"] == 3, response.text


async def test_export_and_import_need_their_permissions(sales: httpx.AsyncClient,
                                                        people: People) -> None:
    viewer = await people.add("viewer", "viewer")
    await people.add("rep", "rep")
    await people.add("other", "rep")
    await _customers_of(sales, people)
    assert (await viewer.get(CUSTOMERS)).status_code == 200  # may read …
    export = await viewer.get(f"{CUSTOMERS}/export")
    assert export.status_code == 403, export.text  # … not export
    assert export.json()["detail"] == "You may not export Customer records"
    imported = await import_csv(viewer, "customer", [["name"], ["X"]])
    assert imported.status_code == 403, imported.text
    assert imported.json()["detail"] == "You may not import Customer records"
    stranger = await people.add("stranger", None)
    assert (await stranger.get(f"{CUSTOMERS}/export")).status_code == 403
    assert (await import_csv(stranger, "customer", [["name"], ["X"]])).status_code == 403
    listed = (await sales.get(CUSTOMERS)).json()["items"]
    assert len(listed) == 3  # nothing was imported


async def test_exports_leave_out_hidden_fields_and_records_out_of_reach(
        sales: httpx.AsyncClient, people: People) -> None:
    rep = await people.add("rep", "rep")
    await people.add("other", "rep")
    await _customers_of(sales, people)
    response = await rep.get(f"{CUSTOMERS}/export", params={"header": "names", "sort": "code"})
    assert response.status_code == 200, response.text
    rows = read_csv(response.content)
    assert "credit_limit" not in rows[0]
    assert [row[rows[0].index("code")] for row in rows[1:]] == ["R1", "R2"]
    xlsx = await rep.get(f"{CUSTOMERS}/export", params={"format": "xlsx"})
    assert xlsx.status_code == 200
    assert b"3000" not in xlsx.content and b"Theirs" not in xlsx.content
    for params in ({"filter": '{">": [{"var": "credit_limit"}, 0]}'},
                   {"sort": "-credit_limit"}):
        refused = await rep.get(f"{CUSTOMERS}/export", params=params)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "credit_limit"
    asked = await rep.get(f"{CUSTOMERS}/export", params={"fields": "name,credit_limit",
                                                         "header": "names"})
    assert read_csv(asked.content)[0] == ["id", "name"]


async def test_lookups_show_only_records_the_reader_may_see(sales: httpx.AsyncClient,
                                                            people: People) -> None:
    rep = await people.add("rep", "rep")
    await people.add("other", "rep")
    await _customers_of(sales, people)
    contracts = await import_csv(sales, "contract", [
        ["title", "customer.code", "owner"],
        ["On mine", "R1", "rep@example.com"], ["On theirs", "O1", "rep@example.com"]])
    assert contracts.json()["created"] == 2, contracts.text
    theirs = (await sales.get(CUSTOMERS, params={"filter": '{"==": [{"var": "code"}, "O1"]}'})
              ).json()["items"][0]["id"]
    response = await rep.get(f"{CONTRACTS}/export", params={
        "header": "names", "fields": "title,customer", "sort": "id"})
    assert read_csv(response.content) == [["id", "title", "customer.code"],
                                          [response_id(response, 1), "On mine", "R1"],
                                          [response_id(response, 2), "On theirs",
                                           f"#{theirs}"]]


def response_id(response: httpx.Response, row: int) -> str:
    return read_csv(response.content)[row][0]


async def test_imports_write_only_what_the_importer_may(sales: httpx.AsyncClient,
                                                        people: People) -> None:
    rep = await people.add("rep", "rep")
    await people.add("other", "rep")
    await _customers_of(sales, people)
    hidden = await import_csv(rep, "customer", [["name", "code", "credit_limit", "owner"],
                                                ["New", "R3", "50", "rep@example.com"],
                                                ["Fine", "R4", "", "rep@example.com"]])
    assert hidden.status_code == 200, hidden.text
    report = hidden.json()
    assert (report["created"], report["refused"]) == (1, 1)
    assert report["errors"][0]["row"] == 2
    assert report["errors"][0]["field"] == "credit_limit"
    assert report["errors"][0]["code"] == "read_only"
    ids = {c["code"]: c["id"] for c in (await sales.get(CUSTOMERS)).json()["items"]}
    await import_csv(sales, "customer", [["name", "code", "owner"],
                                         ["Shared", "S1", "other@example.com"]])
    shared = (await sales.get(CUSTOMERS, params={"filter": '{"==": [{"var": "code"}, "S1"]}'})
              ).json()["items"][0]["id"]
    share = await sales.post(f"{CUSTOMERS}/{shared}/shares",
                             json={"user": "rep@example.com", "access": "read"})
    assert share.status_code == 204, share.text
    upsert = await import_csv(rep, "customer", [["code", "name"], ["R1", "Mine, renamed"],
                                                ["S1", "Shared, renamed"],
                                                ["O1", "Not theirs any more"]],
                              mode="upsert", key="code")
    assert upsert.status_code == 200, upsert.text
    report = upsert.json()
    assert (report["updated"], report["created"], report["refused"]) == (1, 0, 2)
    assert [(e["row"], e["code"], e["message"]) for e in report["errors"]] == [
        (3, "denied", "You may not update this Customer record"),
        # a record the rep may not see is not there: the row would create one, whose code
        # is taken — what creating it through the API says too
        (4, "unique", "Code 'O1' is already used by another record")]
    by_id = await import_csv(rep, "customer", [["id", "name"], [ids["O1"], "Hijacked"]],
                             mode="upsert")
    assert [(e["row"], e["code"]) for e in by_id.json()["errors"]] == [(2, "not_found")]
    names = {c["code"]: c["name"] for c in (await sales.get(CUSTOMERS)).json()["items"]}
    assert names == {"R1": "Mine, renamed", "R2": "Mine 2", "O1": "Theirs", "S1": "Shared",
                     "R4": "Fine"}
    by_code = await import_csv(rep, "contract", [["title", "customer.code"],
                                                 ["Mine", "R1"], ["Theirs", "O1"]])
    report = by_code.json()
    assert (report["created"], report["refused"]) == (1, 1)
    assert report["errors"][0]["message"] == "Customer: there is no Customer with Code 'O1'"
