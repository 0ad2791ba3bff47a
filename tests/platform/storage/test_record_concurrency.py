"""Two writers on one record: with a version check exactly one wins and the other gets a
409; without one, the second waits for the first and both changes land."""

from __future__ import annotations

import asyncio
from typing import Any

from loom.metamodel.errors import Conflict


async def _update(services, admin, record_id: int, data: dict[str, Any],
                  expected: int | None) -> dict[str, Any]:
    async with services.database.write() as conn:
        runtime = await services.apps.runtime(conn, admin, "shop")
        return await services.pipeline.update(conn, runtime, admin, "customer", record_id,
                                              data, expected_version=expected)


async def _race(services, admin, record_id: int, first: dict[str, Any],
                second: dict[str, Any], expected: int | None) -> Any:
    """The first writer changes the record and holds its transaction open while the second
    starts; the second must wait (row lock / database lock) until the first commits."""
    async with services.database.write() as conn:
        runtime = await services.apps.runtime(conn, admin, "shop")
        won = await services.pipeline.update(conn, runtime, admin, "customer", record_id,
                                             first, expected_version=expected)
        late = asyncio.create_task(_update(services, admin, record_id, second, expected))
        await asyncio.sleep(0.2)
        assert not late.done(), "the second writer did not wait for the first"
    try:
        return won, await asyncio.wait_for(late, timeout=10)
    except Conflict as conflict:
        return won, conflict


async def test_with_the_same_version_exactly_one_writer_wins(shop, services, admin) -> None:
    acme = await shop.create("customer", {"name": "Acme"})

    won, lost = await _race(services, admin, acme["id"], {"city": "Berlin"},
                            {"city": "Paris"}, expected=1)

    assert won["version"] == 2
    assert isinstance(lost, Conflict)
    stored = await shop.get("customer", acme["id"])
    assert stored["city"] == "Berlin" and stored["version"] == 2


async def test_without_a_version_no_update_is_lost(shop, services, admin) -> None:
    acme = await shop.create("customer", {"name": "Acme"})

    won, later = await _race(services, admin, acme["id"], {"city": "Berlin"},
                             {"name": "Acme Ltd"}, expected=None)

    assert (won["version"], later["version"]) == (2, 3)
    stored = await shop.get("customer", acme["id"])
    assert (stored["name"], stored["city"], stored["version"]) == ("Acme Ltd", "Berlin", 3)


async def test_two_api_calls_with_the_same_if_match(shop) -> None:
    acme = await shop.create("customer", {"name": "Acme"})
    url = f"/api/apps/shop/records/customer/{acme['id']}"

    responses = await asyncio.gather(
        shop.api.patch(url, json={"city": "Berlin"}, headers={"If-Match": '"1"'}),
        shop.api.patch(url, json={"city": "Paris"}, headers={"If-Match": '"1"'}))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 409], [response.text for response in responses]
    conflict = next(response for response in responses if response.status_code == 409)
    assert conflict.json()["type"].endswith("conflict")
    winner = next(response for response in responses if response.status_code == 200)
    stored = await shop.get("customer", acme["id"])
    assert stored["city"] == winner.json()["city"] and stored["version"] == 2


async def test_a_stale_if_match_is_a_conflict_and_changes_nothing(shop) -> None:
    acme = await shop.create("customer", {"name": "Acme"})
    url = f"/api/apps/shop/records/customer/{acme['id']}"
    assert (await shop.api.patch(url, json={"city": "Berlin"},
                                 headers={"If-Match": '"1"'})).status_code == 200

    stale = await shop.api.patch(url, json={"city": "Paris"}, headers={"If-Match": '"1"'})
    stale_delete = await shop.api.delete(url, headers={"If-Match": '"1"'})

    assert stale.status_code == 409, stale.text
    assert stale_delete.status_code == 409, stale_delete.text
    stored = await shop.get("customer", acme["id"])
    assert (stored["city"], stored["version"]) == ("Berlin", 2)
