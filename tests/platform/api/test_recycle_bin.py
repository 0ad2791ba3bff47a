"""The recycle bin: a delete keeps the record, what its delete cascaded to and the
references it cleared; restoring brings them all back — same ids, history going on — or
refuses whole, saying why. The worker forgets what is older than LOOM_RECYCLE_DAYS."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fixture_kit import if_match, problem_of
from lab_app import LAB, create

from loom.platform.clock import FixedClock
from loom.platform.services import Services
from loom.platform.worker import Worker

BIN = "/api/apps/lab/recycle-bin"


async def _deleted_customer(api: httpx.AsyncClient, name: str = "华为") -> dict[str, Any]:
    customer = await create(api, "customer", {"name": name, "short_name": name[:1]})
    ref = {"customer": customer["id"]}
    made = {"customer": customer,
            "notes": [await create(api, "note", {"text": f"n{n}", **ref}) for n in range(2)],
            "visits": [await create(api, "visit", {"topic": f"v{n}", **ref})
                       for n in range(2)]}
    deleted = await api.delete(f"{LAB}/customer/{customer['id']}", headers=if_match(1))
    assert deleted.status_code == 200, deleted.text
    made["item"] = deleted.json()["recycle_bin_id"]
    return made


async def _items(api: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await api.get(BIN, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_delete_goes_to_the_bin_and_comes_back_whole(lab: httpx.AsyncClient) -> None:
    made = await _deleted_customer(lab)
    customer_id = made["customer"]["id"]

    [item] = await _items(lab)
    assert (item["id"], item["entity"], item["record_id"], item["title"]) == (
        made["item"], "customer", customer_id, "华为")
    assert item["deleted_by"]["name"] and item["expires_at"] > item["deleted_at"]
    assert [(d["entity"], d["count"]) for d in item["deletes"]] == [("visit", 2)]
    assert [(c["entity"], c["field"], c["count"]) for c in item["clears"]] == [
        ("note", "customer", 2)]
    problem_of(await lab.get(f"{LAB}/customer/{customer_id}"), 404)

    restored = await lab.post(f"{BIN}/{made['item']}/restore")

    assert restored.status_code == 200, restored.text
    body = restored.json()
    assert body["restored"] == [{"entity": "customer", "id": customer_id}] + [
        {"entity": "visit", "id": v["id"]} for v in made["visits"]]
    assert body["relinked"] == [{"entity": "note", "field": "customer", "count": 2}]
    assert body["not_relinked"] == []
    customer = (await lab.get(f"{LAB}/customer/{customer_id}")).json()
    assert (customer["name"], customer["short_name"], customer["version"]) == ("华为", "华", 2)
    assert customer["created_at"] == made["customer"]["created_at"]
    history = (await lab.get(f"{LAB}/customer/{customer_id}/history")).json()["items"]
    assert [(h["action"], h["version"]) for h in history] == [
        ("create", 1), ("delete", 1), ("restore", 2)]
    assert history[-1]["changes"]["name"] == [None, "华为"]
    for visit in made["visits"]:
        back = (await lab.get(f"{LAB}/visit/{visit['id']}")).json()
        assert (back["topic"], back["customer"]) == (visit["topic"], customer_id)
    for note in made["notes"]:
        back = (await lab.get(f"{LAB}/note/{note['id']}")).json()
        assert (back["customer"], back["version"]) == (customer_id, 3)
    assert await _items(lab) == []
    again = problem_of(await lab.post(f"{BIN}/{made['item']}/restore",
                                      headers={"accept-language": "en"}), 409)
    assert "was restored already" in again["detail"]


async def test_a_taken_unique_value_refuses_the_restore(lab: httpx.AsyncClient) -> None:
    made = await _deleted_customer(lab, "腾讯")
    await create(lab, "customer", {"name": "腾讯"})  # the name is taken meanwhile

    refused = problem_of(await lab.post(f"{BIN}/{made['item']}/restore",
                                        headers={"accept-language": "en"}), 409)

    assert refused["errors"] == [{"field": "name", "code": "unique",
                                  "message": "Name '腾讯' is already used by another record"}]
    # nothing came back, not even part of it
    for visit in made["visits"]:
        problem_of(await lab.get(f"{LAB}/visit/{visit['id']}"), 404)
    assert [item["id"] for item in await _items(lab)] == [made["item"]]


async def test_a_record_whose_link_is_gone_waits_for_it(lab: httpx.AsyncClient) -> None:
    customer = await create(lab, "customer", {"name": "华为"})
    visit = await create(lab, "visit", {"topic": "拜访", "customer": customer["id"]})
    alone = (await lab.delete(f"{LAB}/visit/{visit['id']}", headers=if_match(1))).json()
    gone = (await lab.delete(f"{LAB}/customer/{customer['id']}", headers=if_match(1))).json()

    refused = problem_of(await lab.post(f"{BIN}/{alone['recycle_bin_id']}/restore",
                                        headers={"accept-language": "zh-CN"}), 409)
    assert refused["errors"][0]["field"] == "customer"
    assert f"客户 #{customer['id']} 已不存在，请先恢复它" in refused["errors"][0]["message"]

    assert (await lab.post(f"{BIN}/{gone['recycle_bin_id']}/restore")).status_code == 200
    assert (await lab.post(f"{BIN}/{alone['recycle_bin_id']}/restore")).status_code == 200
    assert (await lab.get(f"{LAB}/visit/{visit['id']}")).json()["customer"] == customer["id"]


async def test_a_new_record_never_takes_a_deleted_ones_id(lab: httpx.AsyncClient) -> None:
    newest = await create(lab, "customer", {"name": "最新"})
    gone = (await lab.delete(f"{LAB}/customer/{newest['id']}", headers=if_match(1))).json()

    later = await create(lab, "customer", {"name": "后来"})

    assert later["id"] > newest["id"]
    assert (await lab.post(f"{BIN}/{gone['recycle_bin_id']}/restore")).status_code == 200
    history = (await lab.get(f"{LAB}/customer/{later['id']}/history")).json()["items"]
    assert [h["action"] for h in history] == ["create"]


async def test_a_cleared_reference_set_again_meanwhile_stays(lab: httpx.AsyncClient) -> None:
    made = await _deleted_customer(lab)
    other = await create(lab, "customer", {"name": "腾讯"})
    moved = made["notes"][0]
    assert (await lab.patch(f"{LAB}/note/{moved['id']}", json={"customer": other["id"]},
                            headers=if_match(2))).status_code == 200

    body = (await lab.post(f"{BIN}/{made['item']}/restore")).json()

    assert body["relinked"] == [{"entity": "note", "field": "customer", "count": 1}]
    assert body["not_relinked"] == [{"entity": "note", "field": "customer", "count": 1}]
    assert (await lab.get(f"{LAB}/note/{moved['id']}")).json()["customer"] == other["id"]


async def test_the_bin_keeps_items_for_the_retention_period(
        lab: httpx.AsyncClient, services: Services, clock: FixedClock) -> None:
    services.settings.recycle_days = 3  # LOOM_RECYCLE_DAYS
    first = await _deleted_customer(lab, "甲")
    clock.set(clock.now() + timedelta(days=2))
    second = await _deleted_customer(lab, "乙")
    visit = await create(lab, "visit", {"topic": "t"})
    third = (await lab.delete(f"{LAB}/visit/{visit['id']}", headers=if_match(1))).json()

    assert [i["id"] for i in await _items(lab)] == [third["recycle_bin_id"], second["item"],
                                                    first["item"]]
    assert [i["id"] for i in await _items(lab, entity="visit")] == [third["recycle_bin_id"]]
    page = (await lab.get(BIN, params={"limit": 2})).json()
    assert len(page["items"]) == 2
    rest = (await lab.get(BIN, params={"limit": 2, "cursor": page["next_cursor"]})).json()
    assert [i["id"] for i in rest["items"]] == [first["item"]] and rest["next_cursor"] is None
    problem_of(await lab.get(BIN, params={"entity": "nothing"}), 404)
    assert (await Worker(services).run_once(clock.now())).done["recycle_bin"] == 0

    # three days after the first delete it is past keeping: gone from the list, then purged
    clock.set(clock.now() + timedelta(days=1, minutes=1))
    assert [i["id"] for i in await _items(lab)] == [third["recycle_bin_id"], second["item"]]
    problem_of(await lab.post(f"{BIN}/{first['item']}/restore"), 404)
    assert (await Worker(services).run_once(clock.now())).done["recycle_bin"] == 1
    clock.set(clock.now() + timedelta(days=2))
    assert (await Worker(services).run_once(clock.now())).done["recycle_bin"] == 2
    assert await _items(lab) == []
