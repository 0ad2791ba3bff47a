"""Stories of CRM_TEMPLATE.md §1, the front of the funnel: a lead lands in its region's pool
(公海池), two salespeople claim it at once and exactly one wins, the winner gets a first-call
task due in 24 hours with a reminder and an escalation to the manager, and a lead claimed
but never followed up goes back to the pool (回收)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from crm_world import APP, PEOPLE, RECORDS, World
from fixture_kit import problem_of

PEOPLE_NAMES = [(key, name) for key, name, *_rest in PEOPLE]

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


async def new_lead(world: World, **values: object) -> dict:
    return await world.create("lead", {"name": "陈晓明", "company": "杭州云启科技有限公司",
                                       "phone": "13912345678", "email": "chen@yunqi.cn",
                                       "region": "east_china", "source": "website", **values})


async def test_a_new_lead_waits_in_its_regions_pool(world: World) -> None:
    lead = await new_lead(world)

    assert lead["team"] == world.teams["east_china_team"]
    assert lead["owner"] is None
    assert "公海新线索：陈晓明（杭州云启科技有限公司）" in await world.titles("east_manager")
    assert await world.titles("north_manager") == []
    # the source reads as its option's label, in each reader's language
    [told] = [n for n in await world.notifications("east_manager")
              if n["title"].startswith("公海新线索")]
    assert told["body"] == "区域团队：华东销售团队，来源：官网"
    english = await world.as_("east_manager").get("/api/notifications",
                                                  headers={"Accept-Language": "en"})
    assert told["id"] in [n["id"] for n in english.json()["items"]
                          if n["body"] == "Team: 华东销售团队, source: Website"]
    # the pool is visible to every rep; the north team's lead routes north
    assert [x["id"] for x in await world.find("lead", by="li")] == [lead["id"]]
    north = await new_lead(world, name="马丽", region="north_china")
    assert north["team"] == world.teams["north_china_team"]


async def test_four_people_claim_the_same_lead_at_once_and_exactly_one_wins(
        world: World) -> None:
    lead = await new_lead(world)
    claimers = ["zhang", "li", "sun", "director"]

    responses = await asyncio.gather(*[world.action("lead", lead["id"], "claim", by=key)
                                       for key in claimers])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409, 409], [r.text for r in responses]
    winner = next(key for key, r in zip(claimers, responses, strict=True)
                  if r.status_code == 200)
    claimed = await world.get("lead", lead["id"])
    assert claimed["owner"] == world.id(winner)
    # every loser — a rep the claimed lead has left the reach of, or the director who still
    # sees it — is told who won, in their language
    name = dict(PEOPLE_NAMES)[winner]
    for key, response in zip(claimers, responses, strict=True):
        if key == winner:
            continue
        refused = problem_of(response, 409)
        assert refused["detail"] == f"{name}已抢先对这条线索执行了“领取”", refused
        assert refused["changed_by"] == {"id": world.id(winner), "name": name}
    # the losers who are reps no longer see a lead that is someone else's
    for key in claimers[:3]:
        if key != winner:
            assert await world.find("lead", by=key) == []
    tasks = await world.tasks(winner)
    assert [t["title"] for t in tasks] == ["24 小时内首次电话联系：陈晓明（杭州云启科技有限公司）"]
    for key in claimers:
        if key != winner:
            assert await world.tasks(key) == []


async def test_a_late_claim_names_who_took_the_lead_in_english(world: World) -> None:
    lead = await new_lead(world)
    assert (await world.action("lead", lead["id"], "claim", by="li")).status_code == 200

    late = await world.as_("zhang").post(
        f"/api/apps/crm/records/lead/{lead['id']}/actions/claim", json={},
        headers={"Accept-Language": "en"})

    refused = problem_of(late, 409)
    assert refused["detail"] == "李娜 did “Claim” on this Lead first", refused
    # a lead nobody in the pool could ever see stays unknown to them: a 404, not a name
    private = await world.create("lead", {"name": "王磊", "region": "east_china",
                                          "owner": world.id("li")})
    problem_of(await world.action("lead", private["id"], "claim", by="zhang"), 404)


async def test_the_first_call_is_due_in_24_hours_then_reminds_then_escalates(
        world: World) -> None:
    lead = await new_lead(world)
    assert (await world.action("lead", lead["id"], "claim", by="zhang")).status_code == 200
    [task] = await world.tasks("zhang")
    claimed_at = world.now()

    await world.at(claimed_at + 19 * HOUR)
    assert not any("提醒" in t or "即将" in t for t in await world.titles("zhang"))
    await world.at(claimed_at + 21 * HOUR)  # 4 hours before it is due
    reminders = await world.titles("zhang")
    assert len(reminders) == 1 and "首次电话联系" in reminders[0], reminders
    assert not any("首次电话联系" in t for t in await world.titles("east_manager"))

    await world.at(claimed_at + 27 * HOUR)  # due at 24h, escalated 2h later
    escalations = [t for t in await world.titles("east_manager") if "首次电话联系" in t]
    assert len(escalations) == 1, await world.titles("east_manager")
    assert (await world.tasks("zhang"))[0]["id"] == task["id"]  # still the owner's to do


async def test_a_claimed_lead_without_follow_up_goes_back_to_the_pool(world: World) -> None:
    idle = await new_lead(world)
    busy = await new_lead(world, name="周婷", phone="13712345678")
    for lead in (idle, busy):
        assert (await world.action("lead", lead["id"], "claim", by="zhang")).status_code == 200
    await world.advance(3 * DAY)
    await world.create("follow_up", {"lead": busy["id"], "kind": "call",
                                     "notes": "客户说预算有限，下季度再谈",
                                     "happened_at": world.now().isoformat()}, by="zhang")

    await world.advance(4 * DAY + 17 * HOUR)  # past 02:00 of the 8th day after the claim

    recycled, kept = await world.get("lead", idle["id"]), await world.get("lead", busy["id"])
    assert recycled["owner"] is None and recycled["recycle_count"] == 1
    assert kept["owner"] == world.id("zhang")
    assert "线索已退回公海：陈晓明（杭州云启科技有限公司）" in await world.titles("east_manager")
    # back in the pool, another rep may claim it
    assert (await world.action("lead", idle["id"], "claim", by="li")).status_code == 200


async def test_logging_the_first_call_closes_its_task_so_nobody_is_chased(world: World) -> None:
    lead = await new_lead(world)
    assert (await world.action("lead", lead["id"], "claim", by="zhang")).status_code == 200
    [task] = await world.tasks("zhang")

    await world.advance(3 * HOUR)
    await world.create("follow_up", {"lead": lead["id"], "kind": "call",
                                     "happened_at": world.now().isoformat(),
                                     "notes": "已电话联系，约下周演示"}, by="zhang")

    assert await world.tasks("zhang") == []
    [done] = await world.tasks("zhang", status="done")
    assert done["id"] == task["id"]
    await world.advance(2 * DAY)  # neither the reminder nor the escalation comes
    assert not any("首次电话联系" in t for t in await world.titles("zhang"))
    assert not any("首次电话联系" in t for t in await world.titles("east_manager"))



# every region the lead's select offers, and the pool its leads land in
REGION_POOLS = {"east_china": "east_china_team", "north_china": "north_china_team",
                "south_china": "south_china_team", "central_china": "company_pool",
                "southwest_china": "company_pool", "northwest_china": "company_pool",
                "northeast_china": "company_pool", "overseas": "company_pool"}


async def view_ids(world: World, key: str, view: str) -> set[int] | int:
    """The ids of the records ``key`` sees in a view, or the refusal's status."""
    response = await world.as_(key).get(f"/api/apps/{APP}/views/{view}")
    if response.status_code != 200:
        return response.status_code
    return {item["id"] for item in response.json()["items"]}


async def test_every_region_is_routed_to_a_pool_someone_sees(world: World) -> None:
    offered = (await world.admin.get(f"/api/apps/{APP}/metadata")).json()[
        "entities"]["lead"]["fields"]["region"]["options"]
    assert {o["value"] for o in offered} == set(REGION_POOLS)  # the test covers them all
    leads = {region: await new_lead(world, name=f"客户{n}", region=region)
             for n, region in enumerate(REGION_POOLS)}
    no_region = await new_lead(world, name="未填区域", region=None)

    assert {r: lead["team"] for r, lead in leads.items()} == {
        r: world.teams[code] for r, code in REGION_POOLS.items()}
    assert no_region["team"] == world.teams["company_pool"]
    # a team's reps see their region's pool; the company pool is the managers' to assign
    assert await view_ids(world, "zhang", "lead_pool") == {leads["east_china"]["id"]}
    assert await view_ids(world, "sun", "lead_pool") == {leads["north_china"]["id"]}
    everyone = {lead["id"] for lead in leads.values()} | {no_region["id"]}
    for manager in ("east_manager", "north_manager", "director"):
        assert await view_ids(world, manager, "unassigned_leads") == everyone, manager
    assert await view_ids(world, "zhang", "unassigned_leads") == 404  # a managers' view

    # a manager hands a company-pool lead to a rep, who then owns it
    central = leads["central_china"]
    response = await world.as_("north_manager").patch(
        f"{RECORDS}/lead/{central['id']}", json={"owner": world.id("sun")},
        headers={"If-Match": str(central["version"])})
    assert response.status_code == 200, response.text
    assert central["id"] in {x["id"] for x in await world.find("lead", by="sun")
                             if x["owner"] == world.id("sun")}
    assert central["id"] not in await view_ids(world, "east_manager", "unassigned_leads")
