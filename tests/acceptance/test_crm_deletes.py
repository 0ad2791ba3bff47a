"""The field report's broken routing: deleting the East China team (``DELETE
…/records/team/1``, no If-Match) answered 204, cleared the team of its leads and every new
East China lead was refused from then on. Now a delete shows its impact first, a team the
routing rules find by its code cannot be deleted nor recoded, and what is deleted waits in
the recycle bin, restorable with its links — without sending its create-time messages
again."""

from __future__ import annotations

from crm_world import RECORDS, World
from fixture_kit import delete_read, if_match, patch_read, problem_of

RULE_ZH = "规则“华东线索进入华东团队公海”（lead_route_east_china）"
RULE_EN = "Rule “East China leads go to the East China team” (lead_route_east_china)"


async def _east_lead(world: World, name: str, **values: object) -> dict:
    return await world.create("lead", {"name": name, "company": f"{name}公司",
                                       "region": "east_china", "source": "website", **values})


async def test_the_team_a_routing_rule_finds_by_code_stays(world: World) -> None:
    east = world.teams["east_china_team"]
    for name in ("陈晓明", "林芳", "周强"):
        await _east_lead(world, name)
    team_url = f"{RECORDS}/team/{east}"

    impact = (await world.admin.get(f"{team_url}/delete-impact")).json()

    assert impact["allowed"] is False
    assert [(c["entity"], c["field"], c["count"]) for c in impact["clears"]] == [
        ("lead", "team", 3)]
    assert [(n["kind"], n["name"], n["field"], n["value"]) for n in impact["named_by"]] == [
        ("rule", "lead_route_east_china", "code", "east_china_team")]
    assert impact["errors"][0]["message"] == (
        f"{RULE_ZH}按团队编码 = east_china_team查找团队，删除后它将无法工作，请先修改它")

    # the delete itself: without a version 428, with it 409 naming the rule, in English too
    problem_of(await world.admin.delete(team_url), 428)
    refused = problem_of(await delete_read(world.admin, team_url,
                                           headers={"accept-language": "en"}), 409)
    assert refused["detail"] == (f"{RULE_EN} finds the Team with Code = east_china_team; it "
                                 "would stop working. Change it first")
    assert refused["errors"][0]["code"] == "named_by_metadata"
    # nothing changed: the leads keep their team and new ones still route
    assert {lead["team"] for lead in await world.find("lead")} == {east}
    assert (await _east_lead(world, "吴敏"))["team"] == east

    # recoding the team breaks the rule just the same
    recoded = problem_of(await patch_read(world.admin, team_url, {"code": "east_team"},
                                          headers={"accept-language": "en"}), 422)
    assert recoded["errors"] == [{
        "field": "code", "code": "named_by_metadata",
        "message": f"Code cannot change from east_china_team: {RULE_EN} finds the Team by "
                   "it. Change that first"}]
    renamed = await patch_read(world.admin, team_url, {"name": "华东一部"})
    assert renamed.status_code == 200, renamed.text


async def test_a_team_nobody_names_goes_to_the_bin_and_comes_back(world: World) -> None:
    central = await world.create("team", {"code": "central_team", "name": "华中团队",
                                          "region": "central_china"})
    lead = await world.create("lead", {"name": "郑洁", "region": "central_china",
                                       "team": central["id"]})
    url = f"{RECORDS}/team/{central['id']}"
    assert (await world.admin.get(f"{url}/delete-impact")).json()["allowed"] is True

    deleted = await world.admin.delete(url, headers=if_match(central))

    assert deleted.status_code == 200, deleted.text
    assert [(c["entity"], c["field"], c["count"]) for c in deleted.json()["clears"]] == [
        ("lead", "team", 1)]
    assert (await world.get("lead", lead["id"]))["team"] is None
    [item] = (await world.admin.get("/api/apps/crm/recycle-bin")).json()["items"]
    assert (item["entity_label"], item["title"]) == ("团队", "华中团队")

    restored = await world.admin.post(f"/api/apps/crm/recycle-bin/{item['id']}/restore")

    assert restored.status_code == 200, restored.text
    assert (await world.get("team", central["id"]))["code"] == "central_team"
    assert (await world.get("lead", lead["id"]))["team"] == central["id"]


async def test_a_restored_lead_does_not_announce_itself_again(world: World) -> None:
    lead = await _east_lead(world, "陈晓明")
    announced = await world.titles("east_manager")
    assert announced == ["公海新线索：陈晓明（陈晓明公司）"]
    gone = await world.admin.delete(f"{RECORDS}/lead/{lead['id']}", headers=if_match(lead))
    assert gone.status_code == 200, gone.text
    runs = (await world.admin.get("/api/apps/crm/rule-runs",
                                  params={"entity": "lead", "record": lead["id"]})).json()

    restored = await world.admin.post(
        f"/api/apps/crm/recycle-bin/{gone.json()['recycle_bin_id']}/restore")

    assert restored.status_code == 200, restored.text
    back = await world.get("lead", lead["id"])
    assert (back["name"], back["team"], back["version"]) == ("陈晓明", lead["team"],
                                                            lead["version"] + 1)
    # no create rule ran again: no second pool notice, no new rule run
    assert await world.titles("east_manager") == announced
    assert (await world.admin.get("/api/apps/crm/rule-runs", params={
        "entity": "lead", "record": lead["id"]})).json() == runs
    history = (await world.admin.get(f"{RECORDS}/lead/{lead['id']}/history")).json()["items"]
    assert [h["action"] for h in history][-2:] == ["delete", "restore"]


async def test_the_bin_is_for_administrators_and_builders(world: World) -> None:
    lead = await _east_lead(world, "陈晓明")
    zhang = world.as_("zhang")
    problem_of(await zhang.get("/api/apps/crm/recycle-bin"), 403)
    gone = (await world.admin.delete(f"{RECORDS}/lead/{lead['id']}",
                                     headers=if_match(lead))).json()
    refused = problem_of(await zhang.post(
        f"/api/apps/crm/recycle-bin/{gone['recycle_bin_id']}/restore"), 403)
    assert refused["detail"] == "只有管理员或本应用的搭建者可以执行此操作"
    # a rep may not delete a team, so may not ask what it would do either
    problem_of(await zhang.get(f"{RECORDS}/team/{world.teams['east_china_team']}"
                               "/delete-impact"), 403)
