"""Every role against every record path: what each person may list, read, change, delete,
filter, sort, see in the history, press or share — allowed and denied — through the one
permission layer. Outside a person's reach a record does not exist for them (404); within
sight but beyond their rights it is forbidden (403)."""

from __future__ import annotations

import pytest
from company import Company
from fixture_kit import delete_read, patch_read

BASE = "/api/apps/acct/records/customer"


async def _records(company: Company) -> dict[str, int]:
    return {
        "c1": await company.customer("华为", "rep1", "east"),
        "c2": await company.customer("小米", "rep2", "north"),
        "c3": await company.customer("阿里", "boss", "east"),
        "c4": await company.customer("腾讯", "desk", "north"),
        "c5": await company.customer("公海", None, "east"),
    }


READS = {
    "rep1": {"c1"}, "rep2": {"c2"}, "boss": {"c1", "c2", "c3"}, "desk": {"c1", "c3", "c5"},
    "head": {"c1", "c2", "c3"}, "audit": {"c1", "c2", "c3", "c4", "c5"},
}


@pytest.mark.parametrize("person", sorted(READS))
async def test_each_role_lists_and_reads_exactly_its_records(company: Company,
                                                             person: str) -> None:
    records = await _records(company)
    names = {v: k for k, v in records.items()}
    client = company.clients[person]

    listed = await client.get(BASE, params={"count": "true", "sort": "id"})

    assert listed.status_code == 200, listed.text
    assert {names[item["id"]] for item in listed.json()["items"]} == READS[person]
    assert listed.json()["count"] == len(READS[person])
    for key, record_id in records.items():
        got = await client.get(f"{BASE}/{record_id}")
        assert got.status_code == (200 if key in READS[person] else 404), (person, key)


async def test_without_a_role_nothing_is_readable_and_strangers_see_no_app(
        company: Company) -> None:
    records = await _records(company)
    denied = await company.clients["nobody"].get(BASE)
    assert denied.status_code == 403
    assert denied.json()["detail"] == "You may not read Customer records"
    for path in ("/api/apps/acct", BASE, f"{BASE}/{records['c1']}"):
        assert (await company.clients["stranger"].get(path)).status_code == 404, path


async def test_hidden_fields_are_absent_and_cannot_be_written_filtered_or_sorted(
        company: Company) -> None:
    records = await _records(company)
    rep = company.clients["rep1"]

    record = (await rep.get(f"{BASE}/{records['c1']}")).json()
    assert "credit_limit" not in record and record["name"] == "华为"
    listed = (await rep.get(BASE)).json()["items"]
    assert all("credit_limit" not in item for item in listed)
    assert "credit_limit" not in (await company.clients["desk"].get(BASE)).json()["items"][0]
    assert "credit_limit" in (await company.clients["boss"].get(f"{BASE}/{records['c1']}")
                              ).json()

    for params in ({"filter": '{">": [{"var": "credit_limit"}, 1000]}'},
                   {"sort": "-credit_limit"},
                   {"filter": '{"==": [{"var": {"cat": ["credit", "_limit"]}}, 50000]}'}):
        probed = await rep.get(BASE, params=params)
        assert probed.status_code == 422, (params, probed.text)
    written = await patch_read(rep, f"{BASE}/{records['c1']}", {"credit_limit": 1})
    assert written.status_code == 422
    assert written.json()["errors"][0]["field"] == "credit_limit"
    read_only = await patch_read(rep, f"{BASE}/{records['c1']}", {"region": "north"})
    assert read_only.status_code == 422 and read_only.json()["errors"][0]["field"] == "region"
    created = await rep.post(BASE, json={"name": "新客户", "credit_limit": 5})
    assert created.status_code == 422
    created = await rep.post(BASE, json={"name": "新客户", "owner": company.ids["rep1"]})
    assert created.status_code == 201, created.text
    assert "credit_limit" not in created.json()


CHANGES = {  # who patches which record → status
    ("rep1", "c1"): 200, ("rep1", "c3"): 404, ("rep2", "c1"): 404, ("boss", "c1"): 200,
    ("boss", "c4"): 404, ("desk", "c1"): 403, ("desk", "c4"): 403, ("head", "c2"): 403,
    ("audit", "c5"): 403, ("nobody", "c1"): 403,
}


@pytest.mark.parametrize(("person", "key"), sorted(CHANGES))
async def test_changes_within_reach_only(company: Company, person: str, key: str) -> None:
    records = await _records(company)

    # with the version as the administrator reads it: only the person's reach decides
    changed = await patch_read(company.clients[person], f"{BASE}/{records[key]}",
                               {"notes": f"by {person}"}, reader=company.admin)

    assert changed.status_code == CHANGES[(person, key)], changed.text
    stored = (await company.admin.get(f"{BASE}/{records[key]}")).json()["notes"]
    assert stored == (f"by {person}" if changed.status_code == 200 else "n")


async def test_deletes_within_reach_only(company: Company) -> None:
    records = await _records(company)
    admin = company.admin
    for person, key, status in (("rep1", "c1", 403), ("boss", "c4", 404), ("boss", "c2", 200)):
        url = f"{BASE}/{records[key]}"
        impact = await company.clients[person].get(f"{url}/delete-impact")
        assert impact.status_code == status, impact.text  # asked like the delete itself
        deleted = await delete_read(company.clients[person], url, reader=admin)
        assert deleted.status_code == status, deleted.text
    assert (await company.admin.get(f"{BASE}/{records['c2']}")).status_code == 404
    assert (await company.admin.get(f"{BASE}/{records['c4']}")).status_code == 200


async def test_history_actions_and_flows_follow_the_same_reach(company: Company) -> None:
    records = await _records(company)
    rep = company.clients["rep1"]
    await patch_read(company.admin, f"{BASE}/{records['c1']}", {"credit_limit": 9})

    history = await rep.get(f"{BASE}/{records['c1']}/history")
    assert history.status_code == 200
    assert all("credit_limit" not in item["changes"] for item in history.json()["items"])
    assert (await rep.get(f"{BASE}/{records['c3']}/history")).status_code == 404

    pressed = await rep.post(f"{BASE}/{records['c1']}/actions/flag")
    assert pressed.status_code == 200, pressed.text
    assert pressed.json()["notes"] == "flagged" and "credit_limit" not in pressed.json()
    assert (await rep.post(f"{BASE}/{records['c3']}/actions/flag")).status_code == 404

    flows = "/api/apps/acct/flow-instances"
    theirs = await company.admin.post(flows, json={"flow": "review", "record_id": records["c3"]})
    assert theirs.status_code == 201, theirs.text
    mine = await rep.post(flows, json={"flow": "review", "record_id": records["c1"]})
    assert mine.status_code == 201, mine.text
    refused = await rep.post(flows, json={"flow": "review", "record_id": records["c2"]})
    assert refused.status_code == 404
    listed = (await rep.get(flows)).json()["items"]
    assert [i["record_id"] for i in listed] == [records["c1"]]
    assert (await rep.get(f"{flows}/{theirs.json()['id']}")).status_code == 404


async def test_sharing_extends_reach_to_one_record(company: Company) -> None:
    records = await _records(company)
    rep, boss = company.clients["rep1"], company.clients["boss"]
    c3 = f"{BASE}/{records['c3']}"

    assert (await rep.post(f"{c3}/shares", json={"user": "rep1@example.com"})
            ).status_code == 404
    shared = await boss.post(f"{c3}/shares", json={"user": "rep1@example.com"})
    assert shared.status_code == 204, shared.text
    assert (await rep.get(c3)).status_code == 200
    assert (await patch_read(rep, c3, {"notes": "x"})).status_code == 403
    await boss.post(f"{c3}/shares", json={"user": "rep1@example.com", "access": "write"})
    assert (await patch_read(rep, c3, {"notes": "x"})).status_code == 200
    listed = (await boss.get(f"{c3}/shares")).json()["items"]
    assert [(s["email"], s["access"]) for s in listed] == [("rep1@example.com", "write")]
    assert [i["id"] for i in (await rep.get(BASE)).json()["items"]] == [records["c1"],
                                                                          records["c3"]]

    removed = await boss.delete(f"{c3}/shares/{company.ids['rep1']}")
    assert removed.status_code == 204
    assert (await rep.get(c3)).status_code == 404
    unknown = await boss.post(f"{c3}/shares", json={"user": "ghost@example.com"})
    assert unknown.status_code == 422
