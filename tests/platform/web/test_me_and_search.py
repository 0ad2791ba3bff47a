"""What the web app's shell asks of the server: who is signed in (and their language), and
one search over every entity the reader may see — reach and hidden fields as in lists."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from crm_world import World, world_fixtures
from fixture_kit import problem_of

database_url, world = world_fixtures("en")


async def test_me_tells_who_is_signed_in_and_keeps_their_language(world: World) -> None:
    zhang = world.as_("zhang")
    me = (await zhang.get("/api/me")).json()
    assert me["email"] == "zhang@yunqi.example" and me["name"] == "张伟"
    changed = await zhang.patch("/api/me", json={"locale": "en"})
    assert changed.status_code == 200 and changed.json()["locale"] == "en"
    assert (await zhang.get("/api/me")).json()["locale"] == "en"
    refused = problem_of(await zhang.patch("/api/me", json={"locale": "fr"}), 422)
    assert refused["errors"][0]["field"] == "locale"
    # only one's own name and language: rights are the administrators'
    problem_of(await zhang.patch("/api/me", json={"is_admin": True}), 422)
    assert (await zhang.get("/api/me")).json()["is_admin"] is False


async def test_me_without_a_session_is_401(anonymous: httpx.AsyncClient) -> None:
    problem_of(await anonymous.get("/api/me"), 401)


async def _search(client: httpx.AsyncClient, text: str) -> dict[str, list[dict[str, Any]]]:
    response = await client.get("/api/apps/crm/search", params={"q": text})
    assert response.status_code == 200, response.text
    return {group["entity"]: group["items"] for group in response.json()["groups"]}


@pytest.mark.parametrize("by", ["admin", "zhang"])
async def test_search_finds_records_across_entities(world: World, by: str) -> None:
    customer = await world.create("customer", {"code": "C-SEARCH-1", "name": "星河云计算"})
    lead = await world.create("lead", {"name": "星河 王经理", "company": "星河云计算",
                                       "phone": "13800000001", "region": "east_china"})
    found = await _search(world.as_("admin"), "星河")
    assert {"id": customer["id"], "title": "星河云计算", "subtitle": "C-SEARCH-1"} \
        in found["customer"]
    assert lead["id"] in [item["id"] for item in found["lead"]]
    # every word must appear
    assert "customer" not in await _search(world.as_("admin"), "星河 不存在的词")


async def test_search_keeps_to_the_readers_reach(world: World) -> None:
    mine = await world.create("lead", {"name": "钱多多", "company": "远方科技",
                                       "region": "east_china", "owner": world.id("zhang")})
    theirs = await world.create("lead", {"name": "钱多多", "company": "北方科技",
                                         "region": "north_china", "owner": world.id("sun")})
    zhang_sees = [item["id"] for item in (await _search(world.as_("zhang"), "钱多多"))
                  .get("lead", [])]
    assert mine["id"] in zhang_sees and theirs["id"] not in zhang_sees
    # an engineer may not read leads at all: no group, no error
    assert "lead" not in await _search(world.as_("engineer_wu"), "钱多多")


async def test_search_refuses_what_a_search_cannot_be(world: World) -> None:
    problem_of(await world.as_("zhang").get("/api/apps/crm/search",
                                            params={"q": "x" * 201}), 400)
    problem_of(await world.as_("zhang").get("/api/apps/nope/search", params={"q": "x"}), 404)
