"""What the write pipeline refuses, and how: every problem of a record at once, each naming
its field; references that point nowhere; unique values; bulk writes all or none."""

from __future__ import annotations

import httpx
from fixture_kit import if_match, problem_of
from lab_app import LAB, create, errors_by_field
from sqlalchemy import update

from loom.platform.services import Services
from loom.platform.storage.system_tables import users

SAMPLE = f"{LAB}/sample"
EN = {"accept-language": "en"}


async def test_every_problem_of_a_record_comes_back_at_once(lab: httpx.AsyncClient) -> None:
    response = await lab.post(SAMPLE, headers=EN, json={
        "titel": "typo", "quantity": "many", "stage": "lost", "customer": 404,
        "owner": "nobody@example.com", "department": "无此部门", "colour": "red"})
    refused = problem_of(response, 422)
    assert refused["type"] == "urn:loom:problem:validation-failed"
    assert refused["detail"] == "The record has 8 problem(s)"
    assert refused["instance"] == "/api/apps/lab/records/sample"
    assert sorted((e["field"], e["code"], e["message"]) for e in refused["errors"]) == [
        ("colour", "unknown_field", "'colour' is not a field of Sample"),
        ("customer", "reference", "Customer: there is no Customer with id 404"),
        ("department", "reference", "Department: there is no department 无此部门"),
        ("owner", "reference", "Owner: there is no active user nobody@example.com"),
        ("quantity", "not_an_integer", "Quantity must be a whole number"),
        ("stage", "not_an_option", "Stage: 'lost' is not one of the options (new, won)"),
        ("titel", "unknown_field",
         "'titel' is not a field of Sample; did you mean 'title'?"),
        ("title", "required", "Title is required"),
    ]
    assert all("index" not in e for e in refused["errors"])  # one record: no positions
    zh = problem_of(await lab.post(SAMPLE, json={"titel": "x"}), 422)
    assert zh["detail"] == "记录有 2 处问题"
    assert errors_by_field(zh)["titel"][0]["message"] == (
        "“titel”不是样品的字段；您是不是想用“title”？")
    assert errors_by_field(zh)["title"][0]["message"] == "标题为必填项"


async def test_an_update_is_checked_like_a_create(lab: httpx.AsyncClient) -> None:
    record = await create(lab, "sample", {"title": "x", "quantity": 1})
    url = f"{SAMPLE}/{record['id']}"
    refused = problem_of(await lab.patch(url, headers={**EN, **if_match(record)}, json={
        "title": None, "quantity": 5000, "customer": 7, "nmae": "x"}), 422)
    assert {e["field"]: e["code"] for e in refused["errors"]} == {
        "title": "required", "quantity": "too_large", "customer": "reference",
        "nmae": "unknown_field"}
    after = (await lab.get(url)).json()
    assert (after["title"], after["quantity"], after["version"]) == ("x", 1, 1)


async def test_references_resolve_to_ids(lab: httpx.AsyncClient) -> None:
    user = await lab.post("/api/users", json={"email": "Han.Mei@Example.com", "name": "韩梅梅",
                                              "department": "华东区"})
    assert user.status_code == 201, user.text
    user_id = user.json()["id"]
    customer = await create(lab, "customer", {"name": "腾讯"})
    by_email = await create(lab, "sample", {"title": "a", "owner": "han.mei@EXAMPLE.com",
                                            "department": "华东区",
                                            "customer": str(customer["id"])})
    by_id = await create(lab, "sample", {"title": "b", "owner": user_id,
                                         "department": by_email["department"],
                                         "customer": {"id": customer["id"]}})
    for record in (by_email, by_id):
        assert (record["owner"], record["customer"]) == (user_id, customer["id"])
    assert by_email["department"] == by_id["department"] is not None
    # an unknown id points nowhere
    refused = problem_of(await lab.post(SAMPLE, headers=EN, json={
        "title": "c", "customer": customer["id"] + 1000, "owner": customer["id"] + 1000}), 422)
    assert {e["field"]: e["code"] for e in refused["errors"]} == {
        "customer": "reference", "owner": "reference"}
    assert f"there is no Customer with id {customer['id'] + 1000}" in \
        errors_by_field(refused)["customer"][0]["message"]
    # what cannot be an id at all (no 64-bit key holds it; text where an id belongs) is
    # refused as it is read, before a formula or rule could look it up
    for customer_id in (-1, 0, 2**63, 10**30, "C-1"):
        refused = problem_of(await lab.post(SAMPLE, headers=EN, json={
            "title": "c", "customer": customer_id, "owner": customer_id}), 422)
        codes = {e["field"]: e["code"] for e in refused["errors"]}
        assert codes["customer"] == "not_a_record_id", customer_id
        assert codes["owner"] == ("reference" if customer_id == "C-1"  # an email, maybe
                                  else "not_a_record_id"), customer_id
        assert f"Customer: '{customer_id}' is not a record id" in \
            errors_by_field(refused)["customer"][0]["message"]


async def test_deactivated_users_are_not_assignable(lab: httpx.AsyncClient,
                                                    services: Services) -> None:
    created = await lab.post("/api/users", json={"email": "gone@example.com", "name": "走了"})
    user_id = created.json()["id"]
    async with services.database.write() as conn:
        await conn.execute(update(users).where(users.c.id == user_id).values(active=False))
    for given in (user_id, "gone@example.com"):
        refused = problem_of(await lab.post(SAMPLE, headers=EN, json={
            "title": "x", "owner": given}), 422)
        assert refused["errors"][0]["message"] == (
            f"Owner: there is no active user {given}")


async def test_unique_values(lab: httpx.AsyncClient) -> None:
    first = await create(lab, "sample", {"title": "a", "code": "S-1"})
    await create(lab, "sample", {"title": "b", "code": "S-2"})
    refused = problem_of(await lab.post(SAMPLE, headers=EN,
                                        json={"title": "c", "code": "S-1"}), 422)
    assert refused["errors"] == [{"field": "code", "code": "unique",
                                  "message": "Code 'S-1' is already used by another record"}]
    # keeping one's own value is no clash; taking another's is
    same = await lab.patch(f"{SAMPLE}/{first['id']}", json={"code": "S-1", "title": "a2"},
                           headers=if_match(first))
    assert same.status_code == 200, same.text
    taken = await lab.patch(f"{SAMPLE}/{first['id']}", json={"code": "S-2"},
                            headers=if_match(same.json()))
    assert problem_of(taken, 422)["errors"][0]["code"] == "unique"
    # blanks never clash
    for _ in range(2):
        await create(lab, "sample", {"title": "blank code", "code": ""})
    # the value a record gave up is free again
    moved = await lab.patch(f"{SAMPLE}/{first['id']}", json={"code": "S-3"},
                            headers=if_match(same.json()))
    assert moved.status_code == 200, moved.text
    await create(lab, "sample", {"title": "d", "code": "S-1"})


async def test_bulk_is_all_or_none_and_errors_carry_their_index(
        lab: httpx.AsyncClient) -> None:
    await create(lab, "sample", {"title": "existing", "code": "TAKEN"})
    rows = [
        {"title": "ok 0", "code": "A"},
        {"title": "ok 1", "code": "B"},
        {"title": "dup of 0", "code": "A"},
        {"code": "TAKEN"},
        {"title": "ok 4", "quantity": "x", "customer": 99},
        {"title": "ok 5", "code": "B"},
    ]
    refused = problem_of(await lab.post(f"{SAMPLE}/_bulk", json=rows, headers=EN), 422)
    assert refused["detail"] == "The record has 6 problem(s)"
    found = sorted((e["index"], e["field"], e["code"]) for e in refused["errors"])
    assert found == [(2, "code", "unique"), (3, "code", "unique"), (3, "title", "required"),
                     (4, "customer", "reference"), (4, "quantity", "not_an_integer"),
                     (5, "code", "unique")]
    # the first row with a value keeps it; only the later ones clash
    assert not any(e["index"] in (0, 1) for e in refused["errors"])
    listed = (await lab.get(SAMPLE)).json()["items"]
    assert [r["title"] for r in listed] == ["existing"]  # nothing of the batch was written

    good = await lab.post(f"{SAMPLE}/_bulk", json=[{"title": f"行 {i}", "code": f"C{i}"}
                                                   for i in range(5)])
    assert good.status_code == 201, good.text
    items = good.json()["items"]
    assert [r["title"] for r in items] == [f"行 {i}" for i in range(5)]
    assert [r["id"] for r in items] == sorted(r["id"] for r in items)
    assert all(r["version"] == 1 for r in items)


async def test_bulk_takes_a_list_of_objects(lab: httpx.AsyncClient) -> None:
    for body in ({"title": "x"}, "x", 1):
        problem_of(await lab.post(f"{SAMPLE}/_bulk", json=body), 400)
    refused = problem_of(await lab.post(f"{SAMPLE}/_bulk", json=[{"title": "x"}, [1]]), 400)
    assert "JSON" in refused["detail"] or "对象" in refused["detail"]
    empty = await lab.post(f"{SAMPLE}/_bulk", json=[])
    assert empty.status_code == 201 and empty.json() == {"items": []}
    too_many = await lab.post(f"{SAMPLE}/_bulk", json=[{"title": "x"}] * 1001)
    assert "1000" in problem_of(too_many, 400)["detail"]


async def test_read_only_and_computed_fields(lab: httpx.AsyncClient) -> None:
    refused = problem_of(await lab.post(SAMPLE, headers=EN,
                                        json={"title": "x", "locked": "mine"}), 422)
    assert refused["errors"] == [{"field": "locked", "code": "read_only",
                                  "message": "You may not change Locked"}]
    record = await create(lab, "sample", {"title": "x", "locked": None})
    # sending a record back as it was read, system fields and all, changes nothing
    read = (await lab.get(f"{SAMPLE}/{record['id']}")).json()
    same = await lab.patch(f"{SAMPLE}/{record['id']}", json=read, headers=if_match(read))
    assert same.status_code == 200, same.text
    assert same.json() == read
    # system fields are the platform's: what a client says of them is ignored
    forged = await lab.patch(f"{SAMPLE}/{record['id']}", headers=if_match(read), json={
        **read, "title": "y", "id": 999, "version": 77, "created_at": "2000-01-01T00:00:00Z",
        "created_by": 42})
    assert forged.status_code == 200, forged.text
    changed = forged.json()
    assert (changed["id"], changed["version"], changed["created_at"],
            changed["created_by"]) == (record["id"], 2, read["created_at"], read["created_by"])
    refused = problem_of(await lab.patch(f"{SAMPLE}/{record['id']}",
                                         headers={**EN, **if_match(changed)},
                                         json={"locked": "now mine"}), 422)
    assert refused["errors"][0]["code"] == "read_only"
    # line items come with their record, which gets its serial number all the same
    contract = await create(lab, "contract", {"title": "c", "lines": [{"amount": 1}]})
    assert [line["contract"] for line in contract["lines"]] == [contract["id"]]
    assert contract["number"].startswith("HT-")
