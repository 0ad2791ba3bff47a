"""Optimistic versions, the audit trail and serial numbers: a stale write is a 409 that
changes nothing, a change that changes nothing leaves no trace, and every real change leaves
one (who, through which door, each field's old → new)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from fixture_kit import if_match, problem_of
from lab_app import LAB, create

from loom.platform.clock import FixedClock

SAMPLE = f"{LAB}/sample"
EN = {"accept-language": "en"}


async def test_etags_follow_the_version(lab: httpx.AsyncClient) -> None:
    created = await lab.post(SAMPLE, json={"title": "v1"})
    assert created.status_code == 201 and created.headers["etag"] == '"1"'
    url = created.headers["location"]
    assert url == f"{SAMPLE}/{created.json()['id']}"
    read = await lab.get(url)
    assert read.headers["etag"] == '"1"' and read.json()["version"] == 1
    # the forms clients send: quoted, bare, weak
    for version, header in enumerate(('"1"', "2", 'W/"3"'), start=1):
        changed = await lab.patch(url, json={"title": f"v{version + 1}"},
                                  headers={"If-Match": header})
        assert changed.status_code == 200, changed.text
        assert changed.headers["etag"] == f'"{version + 1}"'
        assert changed.json()["version"] == version + 1
    assert (await lab.get(url)).headers["etag"] == '"4"'
    for header in ("*", "abc", '"1", "2"', ""):
        refused = await lab.patch(url, json={"title": "x"}, headers={"If-Match": header})
        assert "If-Match" in problem_of(refused, 400)["detail"]


async def test_a_stale_write_is_a_conflict_and_changes_nothing(
        lab: httpx.AsyncClient) -> None:
    record = await create(lab, "sample", {"title": "original", "quantity": 1})
    url = f"{SAMPLE}/{record['id']}"
    assert (await lab.patch(url, json={"quantity": 2}, headers={"If-Match": "1"})
            ).status_code == 200
    stale = await lab.patch(url, json={"title": "lost update?", "quantity": 99},
                            headers={"If-Match": "1", **EN})
    conflict = problem_of(stale, 409)
    assert conflict["type"] == "urn:loom:problem:conflict"
    assert conflict["detail"] == ("This record was changed by someone else (now at version "
                                  "2, you sent 1). Reload it and apply your change again.")
    zh = problem_of(await lab.patch(url, json={"title": "x"}, headers={"If-Match": "1"}), 409)
    assert zh["detail"].startswith("该记录已被他人修改")
    after = (await lab.get(url)).json()
    assert (after["title"], after["quantity"], after["version"]) == ("original", 2, 2)
    history = (await lab.get(f"{url}/history")).json()["items"]
    assert [item["version"] for item in history] == [1, 2]

    # a stale delete is refused too; the record stays
    problem_of(await lab.delete(url, headers={"If-Match": '"1"'}), 409)
    assert (await lab.get(url)).status_code == 200
    assert (await lab.delete(url, headers={"If-Match": '"2"'})).status_code == 200
    problem_of(await lab.get(url), 404)
    problem_of(await lab.delete(url, headers={"If-Match": '"2"'}), 404)
    problem_of(await lab.patch(url, json={"title": "x"}, headers={"If-Match": '"2"'}), 404)


async def test_concurrent_writers_of_one_version_one_wins(lab: httpx.AsyncClient) -> None:
    record = await create(lab, "sample", {"title": "shared", "quantity": 0})
    url = f"{SAMPLE}/{record['id']}"
    responses = await asyncio.gather(*[
        lab.patch(url, json={"quantity": n}, headers={"If-Match": "1"}) for n in range(1, 6)])
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 409, 409, 409, 409]
    winner = next(r for r in responses if r.status_code == 200).json()
    final = (await lab.get(url)).json()
    assert final["version"] == 2 and final["quantity"] == winner["quantity"]
    assert len((await lab.get(f"{url}/history")).json()["items"]) == 2


async def test_a_change_that_changes_nothing_leaves_no_trace(
        lab: httpx.AsyncClient, clock: FixedClock) -> None:
    record = await create(lab, "sample", {"title": "same", "price": "10", "tags": ["vip"],
                                          "meeting": "2026-05-01 10:00"})
    url = f"{SAMPLE}/{record['id']}"
    clock.set(clock.now() + timedelta(hours=1))
    # the same values, written as a person would type them
    for body in ({}, {"title": " same "}, {"price": "10.00", "tags": "vip"},
                 {"meeting": "2026-05-01T02:00:00Z"}, record):
        unchanged = await lab.patch(url, json=body, headers={"If-Match": "1"})
        assert unchanged.status_code == 200, unchanged.text
        assert unchanged.headers["etag"] == '"1"'
        assert unchanged.json() == record
    history = (await lab.get(f"{url}/history")).json()["items"]
    assert [item["action"] for item in history] == ["create"]


async def test_history_tells_who_changed_what_when(lab: httpx.AsyncClient,
                                                   clock: FixedClock) -> None:
    start = clock.now()
    customer = await create(lab, "customer", {"name": "华为"})
    record = await create(lab, "sample", {"title": "标题", "price": "0.10",
                                          "customer": customer["id"], "tags": ["vip"]})
    url = f"{SAMPLE}/{record['id']}"
    clock.set(start + timedelta(days=1))
    changed = await lab.patch(url, json={"title": "新标题", "price": "0.30", "tags": None,
                                         "due": "2026-12-31", "customer": customer["id"]},
                              headers=if_match(record))
    assert changed.status_code == 200, changed.text
    assert changed.json()["updated_at"] == "2026-11-03T01:30:00Z"
    assert changed.json()["created_at"] == "2026-11-02T01:30:00Z"
    history = (await lab.get(f"{url}/history")).json()["items"]
    assert [(h["action"], h["version"], h["source"], h["at"]) for h in history] == [
        ("create", 1, "api", "2026-11-02T01:30:00Z"),
        ("update", 2, "api", "2026-11-03T01:30:00Z")]
    admin_id = record["created_by"]
    assert admin_id is not None and all(h["actor_id"] == admin_id for h in history)
    created, updated = history[0]["changes"], history[1]["changes"]
    assert created["title"] == [None, "标题"] and created["level"] == [None, "b"]
    assert created["customer"] == [None, customer["id"]]
    assert "quantity" not in created  # blank before, blank after
    assert updated == {"title": ["标题", "新标题"], "price": [0.1, 0.3],
                       "tags": [["vip"], None], "due": [None, "2026-12-31"]}


async def test_serial_numbers_count_per_month_in_the_apps_zone(
        lab: httpx.AsyncClient, clock: FixedClock) -> None:
    contracts = f"{LAB}/contract"
    first = await create(lab, "contract", {"title": "一"})
    batch = await lab.post(f"{contracts}/_bulk", json=[{"title": t} for t in "二三四"])
    assert batch.status_code == 201, batch.text
    numbers = [first["number"]] + [c["number"] for c in batch.json()["items"]]
    assert numbers == ["HT-202611-0001", "HT-202611-0002", "HT-202611-0003",
                       "HT-202611-0004"]
    # 2026-11-30 16:30 UTC is already December in Shanghai: a new month, a new count
    clock.set(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    assert (await create(lab, "contract", {"title": "五"}))["number"] == "HT-202612-0001"
    clock.set(datetime(2026, 11, 30, 15, 59, tzinfo=UTC))
    assert (await create(lab, "contract", {"title": "六"}))["number"] == "HT-202611-0005"
    # a failed batch burns no number that anyone sees twice
    refused = await lab.post(f"{contracts}/_bulk", json=[{"title": "ok"}, {}])
    problem_of(refused, 422)
    after = await create(lab, "contract", {"title": "七"})
    assert after["number"] == "HT-202611-0006"
    # the number is the platform's: what a client sends for it is ignored
    url = f"{contracts}/{first['id']}"
    kept = await lab.patch(url, json={"number": "HT-000000-9999", "title": "改"},
                           headers=if_match(first))
    assert kept.status_code == 200, kept.text
    assert kept.json()["number"] == "HT-202611-0001"
    given = await create(lab, "contract", {"title": "八", "number": "MINE-1"})
    assert given["number"] != "MINE-1"
    listed = await lab.get(contracts, params={"sort": "number", "fields": "number",
                                              "limit": 100})
    all_numbers = [c["number"] for c in listed.json()["items"]]
    assert len(all_numbers) == len(set(all_numbers)) == 8


async def test_concurrent_creates_keep_values_unique(lab: httpx.AsyncClient) -> None:
    """Writers racing for one unique value: one wins; the others are told which field
    (on PostgreSQL the unique index decides, after both passed the checks)."""
    responses = await asyncio.gather(*[
        lab.post(f"{LAB}/customer", headers=EN, json={"name": f"客户{n}", "short_name": "HW"})
        for n in range(4)])
    assert sorted(r.status_code for r in responses) == [201, 422, 422, 422]
    for response in responses:
        if response.status_code == 422:
            assert problem_of(response, 422)["errors"] == [{
                "field": "short_name", "code": "unique",
                "message": "Short name 'HW' is already used by another record"}]
    contracts = await asyncio.gather(*[
        lab.post(f"{LAB}/contract", json={"title": f"c{n}"}) for n in range(6)])
    numbers = sorted(r.json()["number"] for r in contracts)
    assert numbers == [f"HT-202611-{n:04d}" for n in range(1, 7)]
