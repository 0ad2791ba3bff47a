"""Deleting a record that others point at: each lookup says what happens to them (restrict,
set null, cascade; line items of a subtable go with their parent), all in one transaction."""

from __future__ import annotations

from typing import Any

import httpx
from fixture_kit import delete_read, problem_of
from lab_app import LAB, create
from sqlalchemy import select

from loom.platform.services import Services
from loom.platform.storage.system_tables import record_audit


async def _ids(api: httpx.AsyncClient, entity: str) -> list[int]:
    response = await api.get(f"{LAB}/{entity}", params={"limit": 1000})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def _customer_with_dependants(api: httpx.AsyncClient, contacts: int = 0,
                                    name: str = "华为") -> dict[str, Any]:
    customer = await create(api, "customer", {"name": name})
    ref = {"customer": customer["id"]}
    for n in range(contacts):
        await create(api, "contact", {"name": f"联系人{n}", **ref})
    return {"customer": customer,
            "notes": [(await create(api, "note", {"text": f"n{n}", **ref}))["id"]
                      for n in range(2)],
            "visits": [(await create(api, "visit", {"topic": f"v{n}", **ref}))["id"]
                       for n in range(2)],
            "sample": (await create(api, "sample", {"title": "s", **ref}))["id"]}


async def test_restrict_refuses_and_changes_nothing(lab: httpx.AsyncClient) -> None:
    made = await _customer_with_dependants(lab, contacts=2)
    url = f"{LAB}/customer/{made['customer']['id']}"
    for locale, words in (("en", ("2 Contact record(s)", "(Customer)")),
                          ("zh-CN", ("2 条联系人记录", "（所属客户）"))):
        refused = problem_of(await delete_read(lab, url, headers={"accept-language": locale}),
                             409)
        assert all(word in refused["detail"] for word in words), refused["detail"]
        assert refused["errors"][0]["code"] == "referenced"
    # the set-null and cascade references were not touched either
    assert (await lab.get(url)).status_code == 200
    assert await _ids(lab, "visit") == made["visits"]
    for note_id in made["notes"]:
        note = (await lab.get(f"{LAB}/note/{note_id}")).json()
        assert (note["customer"], note["version"]) == (made["customer"]["id"], 1)


async def test_set_null_and_cascade(lab: httpx.AsyncClient, services: Services) -> None:
    made = await _customer_with_dependants(lab)
    other = await _customer_with_dependants(lab, name="腾讯")
    customer_id = made["customer"]["id"]
    assert (await lab.delete(f"{LAB}/customer/{customer_id}",
                             headers={"If-Match": '"1"'})).status_code == 200
    problem_of(await lab.get(f"{LAB}/customer/{customer_id}"), 404)
    # cascade: the visits went with it; the other customer's stayed
    assert await _ids(lab, "visit") == other["visits"]
    # set null: the notes and the sample stay, pointing nowhere, each change audited
    for note_id in made["notes"]:
        note = (await lab.get(f"{LAB}/note/{note_id}")).json()
        assert (note["customer"], note["version"]) == (None, 2)
        history = (await lab.get(f"{LAB}/note/{note_id}/history")).json()["items"]
        assert history[-1]["source"] == "system"
        assert history[-1]["changes"] == {"customer": [customer_id, None]}
    sample = (await lab.get(f"{LAB}/sample/{made['sample']}")).json()
    assert sample["customer"] is None
    for note_id in other["notes"]:
        assert (await lab.get(f"{LAB}/note/{note_id}")).json()["customer"] == \
            other["customer"]["id"]
    # the deletions are in the audit trail with the values they had
    async with services.database.read() as conn:
        rows = (await conn.execute(select(record_audit).where(
            record_audit.c.action == "delete").order_by(record_audit.c.id))).mappings().all()
    deleted = [(row["entity"], row["record_id"], row["source"]) for row in rows]
    assert sorted(deleted) == sorted([("customer", customer_id, "api")] + [
        ("visit", visit_id, "system") for visit_id in made["visits"]])
    customer_row = next(row for row in rows if row["entity"] == "customer")
    assert customer_row["changes"]["name"] == ["华为", None]
    assert customer_row["version"] == 1


async def test_line_items_go_with_their_parent(lab: httpx.AsyncClient) -> None:
    contract = await create(lab, "contract", {"title": "主合同"})
    kept = await create(lab, "contract", {"title": "另一份"})
    lines = await lab.post(f"{LAB}/contract_line/_bulk", json=[
        {"contract": contract["id"], "amount": "100.10"},
        {"contract": contract["id"], "amount": "0.20"},
        {"contract": kept["id"], "amount": "5"}])
    assert lines.status_code == 201, lines.text
    kept_line = lines.json()["items"][2]["id"]
    assert (await delete_read(lab, f"{LAB}/contract/{contract['id']}")).status_code == 200
    assert await _ids(lab, "contract_line") == [kept_line]
    assert await _ids(lab, "contract") == [kept["id"]]


async def test_a_restriction_further_down_a_cascade_refuses_it_all(
        lab: httpx.AsyncClient) -> None:
    made = await _customer_with_dependants(lab)
    report = await create(lab, "visit_report", {"summary": "好", "visit": made["visits"][1]})
    customer_url = f"{LAB}/customer/{made['customer']['id']}"
    refused = problem_of(await delete_read(lab, customer_url, headers={"accept-language": "en"}),
                         409)
    assert "1 Visit report record(s)" in refused["detail"]
    assert (await lab.get(customer_url)).status_code == 200
    assert await _ids(lab, "visit") == made["visits"]
    assert [(await lab.get(f"{LAB}/note/{n}")).json()["customer"] for n in made["notes"]] \
        == [made["customer"]["id"]] * 2
    assert (await delete_read(lab, f"{LAB}/visit_report/{report['id']}")).status_code == 200
    assert (await delete_read(lab, customer_url)).status_code == 200
    assert await _ids(lab, "visit") == []
