"""A record's buttons on its 360° view: each action of the entity, whether it can run now
and, when not, why — in words, in the reader's language — the same words pressing it
answers with (409)."""

from __future__ import annotations

from typing import Any

from crm_world import RECORDS, World
from fixture_kit import problem_of


async def states(world: World, lead_id: int, by: str, language: str = "en"
                 ) -> dict[str, dict[str, Any]]:
    response = await world.as_(by).get(f"{RECORDS}/lead/{lead_id}/related",
                                       headers={"Accept-Language": language})
    assert response.status_code == 200, response.text
    return {action["name"]: action for action in response.json()["actions"]}


async def test_the_buttons_say_which_can_run_and_why_not(world: World) -> None:
    lead = await world.create("lead", {"name": "公海线索", "company": "云启"})
    assert lead["owner"] is None
    pool = await states(world, lead["id"], "zhang")
    assert list(pool) == ["claim", "release", "qualify", "disqualify", "convert"]
    assert {name: a["available"] for name, a in pool.items()} == {
        "claim": True, "release": False, "qualify": True, "disqualify": True,
        "convert": True}
    assert pool["claim"] == {"name": "claim", "label": "Claim", "available": True}
    assert pool["release"]["reason"] == (
        "Owner must not be blank; Owner must be you, or you must have the role Sales "
        "manager or Sales director or CRM administrator")
    assert pool["release"]["confirm"] == "Return this lead to the pool?"
    # Zhang claims it; his manager sees why she cannot claim it (she may release it)
    assert (await world.action("lead", lead["id"], "claim", by="zhang")).status_code == 200
    taken = await states(world, lead["id"], "east_manager")
    assert taken["claim"]["reason"] == "Owner must be blank"
    assert taken["release"]["available"] is True
    chinese = await states(world, lead["id"], "east_manager", "zh-CN")
    assert chinese["claim"]["label"] == "领取"
    assert chinese["claim"]["reason"] == "负责人必须为空"
    assert (await states(world, lead["id"], "zhang"))["release"]["available"] is True
    # pressing it says who got there first, and what the action needs now
    refused = problem_of(await world.action("lead", lead["id"], "claim",
                                            by="east_manager"), 409)
    assert refused["detail"] == "张伟 did “Claim” on this Lead first"
    assert {"field": None, "message": "Owner must be blank",
            "code": "action_not_available"} in refused["errors"]
    # once converted: the parts that fail, and only those
    assert (await world.action("lead", lead["id"], "convert", by="zhang")).status_code == 200
    done = await states(world, lead["id"], "zhang")
    assert done["convert"]["reason"] == (
        "Status must be none of: Converted, Unqualified; Converted customer must be blank")
    assert done["qualify"]["reason"] == "Status must be one of: New, Contacting"
    assert done["release"]["reason"] == "Status must not be Converted"
