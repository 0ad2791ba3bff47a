"""The permission matrix across read paths: for every role, every way of reading records —
the list, a quick search, a saved view, an export, a dashboard's figures and groups, one
record and its 360° view — reaches exactly the same records, and a field hidden from a
role is absent from every one of them and cannot be found by searching for its value.
A path a role may not use at all is refused with 403 (a dashboard opens, with every figure
over an entity the reader may not read marked unavailable); a record beyond reach is 404."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable

import httpx
import pytest
from company import Company
from test_permission_matrix import READS, _records

APP = "/api/apps/acct"
BASE = f"{APP}/records/customer"
NAMES = {"华为": "c1", "小米": "c2", "阿里": "c3", "腾讯": "c4", "公海": "c5"}
EXPORTERS = {"boss", "desk", "audit"}
HIDES_CODE = {"rep1", "rep2", "desk"}

Path = Callable[[httpx.AsyncClient], Awaitable[tuple[int, set[str]]]]


async def _listed(client: httpx.AsyncClient) -> tuple[int, set[str]]:
    response = await client.get(BASE, params={"limit": "100"})
    return response.status_code, _keys(response, "items")


async def _searched(client: httpx.AsyncClient) -> tuple[int, set[str]]:
    response = await client.get(BASE, params={"q": "N"})  # every record's notes: "n"
    return response.status_code, _keys(response, "items")


async def _view(client: httpx.AsyncClient) -> tuple[int, set[str]]:
    response = await client.get(f"{APP}/views/customers")
    return response.status_code, _keys(response, "items")


async def _exported(client: httpx.AsyncClient) -> tuple[int, set[str]]:
    response = await client.get(f"{BASE}/export", params={"header": "names"})
    if response.status_code != 200:
        return response.status_code, set()
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    return 200, {NAMES[row["name"]] for row in rows}


async def _dashboard(client: httpx.AsyncClient) -> tuple[int, set[str]]:
    response = await client.get(f"{APP}/dashboards/accounts")
    if response.status_code != 200:
        return response.status_code, set()
    widgets = {w["name"]: w for w in response.json()["widgets"]}
    if not widgets["by_name"]["available"]:  # the entity is not for this reader at all
        assert not any(w["available"] for w in widgets.values())
        return 403, set()
    groups = {NAMES[row["key"]] for row in widgets["by_name"]["rows"]}
    assert widgets["customers"]["value"] == len(groups)
    return 200, groups


def _keys(response: httpx.Response, member: str) -> set[str]:
    if response.status_code != 200:
        return set()
    return {NAMES[item["name"]] for item in response.json()[member]}


PATHS: dict[str, Path] = {"list": _listed, "search": _searched, "view": _view,
                          "export": _exported, "dashboard": _dashboard}


def _expected(person: str, path: str) -> tuple[int, set[str]]:
    if person == "nobody" or (path == "export" and person not in EXPORTERS):
        return 403, set()
    return 200, READS[person]


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("person", sorted([*READS, "nobody"]))
async def test_every_read_path_reaches_the_same_records(company: Company, person: str,
                                                        path: str) -> None:
    await _records(company)

    found = await PATHS[path](company.clients[person])

    assert found == _expected(person, path), (person, path)


@pytest.mark.parametrize("person", sorted(READS))
async def test_one_record_and_its_360_view_follow_the_same_reach(company: Company,
                                                                 person: str) -> None:
    records = await _records(company)
    for key, record_id in records.items():
        await company.admin.post(f"{APP}/records/contact", json={
            "name": f"联系人{key}", "customer": record_id})
    client = company.clients[person]

    for key, record_id in records.items():
        one = await client.get(f"{BASE}/{record_id}")
        related = await client.get(f"{BASE}/{record_id}/related")
        expected = 200 if key in READS[person] else 404
        assert (one.status_code, related.status_code) == (expected, expected), (person, key)
        if expected == 200:
            [contacts] = related.json()["related"]
            assert [i["name"] for i in contacts["items"]] == [f"联系人{key}"]


@pytest.mark.parametrize("person", sorted(HIDES_CODE))
async def test_a_hidden_field_is_absent_everywhere_and_cannot_be_searched_for(
        company: Company, person: str) -> None:
    records = await _records(company)
    client = company.clients[person]
    mine = next(iter(READS[person]))
    code = f"KH-{next(n for n, k in NAMES.items() if k == mine)}"

    # the same search finds the record for a reader who sees the code
    assert [i["code"] for i in (await company.clients["audit"].get(
        BASE, params={"q": code})).json()["items"]] == [code]
    searched = await client.get(BASE, params={"q": code})
    assert searched.status_code == 200 and searched.json()["items"] == []

    record = (await client.get(f"{BASE}/{records[mine]}")).json()
    assert "code" not in record and "credit_limit" not in record
    view = (await client.get(f"{APP}/views/customers")).json()
    assert [c["name"] for c in view["columns"]] == ["name", "region"]
    assert all("code" not in item for item in view["items"])
    widgets = {w["name"]: w for w in
               (await client.get(f"{APP}/dashboards/accounts")).json()["widgets"]}
    assert widgets["credit"]["available"] is False and "value" not in widgets["credit"]
    assert widgets["customers"]["available"] is True
    if person in EXPORTERS:
        exported = await client.get(f"{BASE}/export", params={"header": "names"})
        assert exported.status_code == 200
        header = next(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
        assert "code" not in header and "credit_limit" not in header
        # asked for by name, it is still left out (absent, as in the list)
        asked = await client.get(f"{BASE}/export", params={"fields": "name,code",
                                                           "header": "names"})
        assert next(csv.reader(io.StringIO(asked.text.lstrip("\ufeff")))) == ["id", "name"]


async def test_bad_searches_are_refused_naming_q(company: Company) -> None:
    client = company.clients["boss"]
    too_long = await client.get(BASE, params={"q": "华" * 201})
    assert too_long.status_code == 400
    assert too_long.json()["errors"][0]["field"] == "q"
    many = await client.get(BASE, params={"q": "a b c d e f"})
    assert many.status_code == 400 and many.json()["errors"][0]["field"] == "q"
    # % and _ are looked for as themselves, not as wildcards
    await _records(company)
    assert (await client.get(BASE, params={"q": "%"})).json()["items"] == []
    assert (await client.get(BASE, params={"q": "   "})).status_code == 200


async def test_the_inbox_names_a_tasks_record_only_within_reach(company: Company) -> None:
    from sqlalchemy import select

    from loom.platform.storage.system_tables import apps
    from loom.platform.tasks.store import create_task

    records = await _records(company)
    services = company.services
    async with services.database.write() as conn:
        app = (await conn.execute(select(apps).where(apps.c.slug == "acct"))).mappings().one()
        for person, key in (("rep1", "c1"), ("rep2", "c1"), ("desk", "c3")):
            await create_task(conn, workspace_id=app["workspace_id"], app_id=app["id"],
                              entity="customer", record_id=records[key], title=f"跟进 {key}",
                              assignee_id=company.ids[person], now=services.clock.now(),
                              locale="zh-CN")

    def titles(response: httpx.Response) -> list[tuple[str, str | None]]:
        assert response.status_code == 200, response.text
        return [(t["title"], t["record_title"]) for t in response.json()["items"]]

    inbox = f"{APP}/tasks"
    assert titles(await company.clients["rep1"].get(inbox)) == [("跟进 c1", "华为")]
    # rep2 was given a task on rep1's customer: the task is theirs, the record is not
    assert titles(await company.clients["rep2"].get(inbox)) == [("跟进 c1", None)]
    assert titles(await company.clients["desk"].get(inbox)) == [("跟进 c3", "阿里")]
