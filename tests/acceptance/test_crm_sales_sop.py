"""The sales SOP of CRM_TEMPLATE.md §1 (销售SOP): each opportunity stage says what to do,
the information to collect before the deal moves on, and how long it may stay. The
pipeline refuses to move a deal past a stage whose key information is missing — whatever
the source: the API, a bulk write, an import, a rule — naming each missing field in the
reader's language; a stage overstayed reminds the owner once; and the record view shows
the stage path: the stages, the current one, since when, what it still needs."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from crm_world import APP, RECORDS, World
from deal_steps import analysed, converted, demonstrated
from fixture_kit import problem_of

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


async def patch(world: World, key: str, record: dict[str, Any], values: dict[str, Any],
                language: str = "zh-CN") -> Any:
    current = await world.get("opportunity", record["id"])
    return await world.as_(key).patch(
        f"{RECORDS}/opportunity/{record['id']}", json=values,
        headers={"If-Match": str(current["version"]), "Accept-Language": language})


def errors(response: Any) -> list[tuple[str, str]]:
    return [(e["field"], e["message"]) for e in problem_of(response, 422)["errors"]]


async def test_needs_analysis_is_left_only_with_budget_decision_chain_and_pain_points(
        world: World) -> None:
    _lead, _customer, deal, _ = await converted(world, budget=None)
    assert (await patch(world, "zhang", deal, {"stage": "needs_analysis"})).status_code == 200

    refused = await patch(world, "zhang", deal, {"stage": "demo"})

    assert errors(refused) == [("budget", "填写预算后才能离开需求分析阶段"),
                               ("decision_chain", "填写决策链后才能离开需求分析阶段"),
                               ("pain_points", "填写痛点后才能离开需求分析阶段")]
    assert errors(await patch(world, "zhang", deal, {"stage": "demo"}, "en")) == [
        ("budget", "Fill in Budget before leaving Needs analysis"),
        ("decision_chain", "Fill in Decision chain before leaving Needs analysis"),
        ("pain_points", "Fill in Pain points before leaving Needs analysis")]
    assert (await world.get("opportunity", deal["id"]))["stage"] == "needs_analysis"

    # the visit that uncovers the need fills them in; then the deal moves on
    await world.create("follow_up", {
        "opportunity": deal["id"], "kind": "visit", "happened_at": world.now().isoformat(),
        "budget": 120000, "decision_chain": "IT 经理评估，总经理拍板",
        "pain_points": "库存对不上账"}, by="zhang")
    assert (await patch(world, "zhang", deal, {"stage": "demo"})).status_code == 200
    # past needs analysis its key information stays: emptying it is refused …
    assert errors(await patch(world, "zhang", deal, {"budget": None})) == [
        ("budget", "填写预算后才能离开需求分析阶段")]
    # … skipping the demo and the quote names what they still need …
    assert errors(await patch(world, "zhang", deal, {"stage": "contract_approval"})) == [
        ("demo_date", "填写演示日期后才能离开方案演示阶段"),
        ("demo_attendees", "填写演示参加人后才能离开方案演示阶段"),
        ("stage", "需要已发送的报价才能离开商务报价阶段")]
    # … and going back is always allowed
    assert (await patch(world, "zhang", deal, {"stage": "needs_analysis"})).status_code == 200
    assert (await patch(world, "zhang", deal, {"budget": None})).status_code == 200


async def test_the_sop_holds_whatever_the_source(world: World) -> None:
    customer = await world.create("customer", {"name": "无锡东方纺织有限公司", "code": "C-7",
                                               "owner": world.id("zhang")})
    contact = await world.create("contact", {"name": "钱进", "customer": customer["id"]})
    base = {"customer": customer["id"], "contact": contact["id"], "source": "referral",
            "owner": world.id("zhang")}

    # a bulk write is all or nothing, and says which record lacks what
    bulk = await world.admin.post(f"{RECORDS}/opportunity/_bulk", json=[
        {**base, "name": "一期"}, {**base, "name": "二期", "stage": "demo"}])
    assert bulk.status_code == 422, bulk.text
    assert {(e["index"], e["field"]) for e in bulk.json()["errors"]} == {
        (1, "budget"), (1, "decision_chain"), (1, "pain_points")}

    # an import keeps the rows that respect the SOP and reports the others
    sheet = io.StringIO()
    csv.writer(sheet).writerows([
        ["name", "customer", "contact", "source", "stage", "budget", "decision_chain",
         "pain_points"],
        ["三期", customer["id"], contact["id"], "referral", "needs_analysis", "", "", ""],
        ["四期", customer["id"], contact["id"], "", "needs_analysis", "", "", ""],
        ["五期", customer["id"], contact["id"], "referral", "demo", "50000", "总经理", "效率低"],
    ])
    imported = await world.admin.post(f"{RECORDS}/opportunity/import",
                                      content=sheet.getvalue().encode(),
                                      headers={"Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    report = imported.json()
    assert (report["created"], report["refused"]) == (2, 1)
    assert [(e["row"], e["field"], e["message"]) for e in report["errors"]] == [
        (3, "source", "填写商机来源后才能离开初步接洽阶段")]

    # a rule moving the deal on (a quote marked sent) meets the same refusal
    deal = await world.create("opportunity", {**base, "name": "六期"}, by="zhang")
    quote = await world.create("quote", {"opportunity": deal["id"]}, by="zhang")
    product = await world.create("product", {"name": "扫码枪", "price": 900})
    await world.create("quote_item", {"quote": quote["id"], "product": product["id"],
                                      "quantity": 10}, by="zhang")
    sent = await world.action("quote", quote["id"], "mark_sent", by="zhang")
    assert {field for field, _ in errors(sent)} == {
        "budget", "decision_chain", "pain_points", "demo_date", "demo_attendees"}
    assert (await world.get("quote", quote["id"]))["status"] == "draft"


async def test_won_needs_a_signed_contract_and_lost_a_reason(world: World) -> None:
    _lead, _customer, deal, _ = await converted(world)
    values = {"name": "直接赢单", "customer": deal["customer"], "contact": deal["contact"],
              "source": "website", "stage": "won", "amount": 250000}

    created_won = await world.as_("zhang").post(f"{RECORDS}/opportunity", json=values)

    found = errors(created_won)
    assert ("stage", "需要已签约的合同才能进入赢单阶段") in found
    assert ("stage", "需要已发送的报价才能离开商务报价阶段") in found
    assert ("budget", "填写预算后才能离开需求分析阶段") in found
    assert len(await world.find("opportunity")) == 1
    # winning an open deal is refused the same way, without a signed contract
    assert ("stage", "需要已签约的合同才能进入赢单阶段") in errors(
        await patch(world, "zhang", deal, {"stage": "won"}))
    # a deal may be lost at any stage, for a reason
    assert errors(await patch(world, "zhang", deal, {"stage": "lost"})) == [
        ("lost_reason", "填写输单原因后才能进入输单阶段")]
    lost = await patch(world, "zhang", deal, {"stage": "lost", "lost_reason": "competitor"})
    assert lost.status_code == 200, lost.text
    # reopening it at the quote stage needs what the stages before the quote need
    assert {f for f, _ in errors(await patch(world, "zhang", deal, {"stage": "quote"}))} == {
        "decision_chain", "pain_points", "demo_date", "demo_attendees"}


async def test_a_stage_overstayed_reminds_the_owner_once(world: World) -> None:
    _lead, _customer, waiting, _ = await converted(world)
    _lead, _customer, moving, _ = await converted(world, rep="li", company="苏州远航物流有限公司")
    overdue = f"商机“{waiting['name']}”在“初步接洽”阶段已超过 3 天"

    await world.advance(3 * DAY - HOUR)
    assert overdue not in await world.titles("zhang")
    await analysed(world, moving, rep="li")  # moved on in time: no reminder for that stay
    await world.advance(2 * HOUR)

    [reminder] = [n for n in await world.notifications("zhang") if n["title"] == overdue]
    assert reminder["body"] == "24 小时内首次电话联系；确认联系人的角色和商机来源。"
    assert (reminder["entity"], reminder["record_id"]) == ("opportunity", waiting["id"])
    assert not [t for t in await world.titles("li") if "初步接洽" in t]
    await world.advance(DAY)
    assert (await world.titles("zhang")).count(overdue) == 1  # once per stay
    # the next stage has its own limit: seven days of needs analysis
    await world.advance(5 * DAY)
    assert f"商机“{moving['name']}”在“需求分析”阶段已超过 7 天" not in await world.titles("li")
    await world.advance(2 * DAY)
    assert f"商机“{moving['name']}”在“需求分析”阶段已超过 7 天" in await world.titles("li")


async def test_the_record_view_shows_the_stage_path(world: World) -> None:
    _lead, _customer, deal, _ = await converted(world, budget=None)
    entered = world.now()
    await world.advance(DAY)
    await analysed(world, deal)

    await world.advance(8 * DAY)
    response = await world.as_("zhang").get(
        f"/api/apps/{APP}/records/opportunity/{deal['id']}/related")

    assert response.status_code == 200, response.text
    [path] = response.json()["stages"]
    assert (path["field"], path["label"]) == ("stage", "销售阶段")
    assert [s["value"] for s in path["stages"]] == [
        "initial_contact", "needs_analysis", "demo", "quote", "contract_approval", "won",
        "lost"]
    needs = path["stages"][1]
    assert needs == {
        "value": "needs_analysis", "label": "需求分析", "category": "open", "final": False,
        "guidance": "深入了解需求：确认预算、决策链和痛点。",
        "key_fields": [{"name": "budget", "label": "预算"},
                       {"name": "decision_chain", "label": "决策链"},
                       {"name": "pain_points", "label": "痛点"}],
        "key_conditions": [], "time_limit": "P7D", "time_limit_text": "7 天"}
    assert path["stages"][3]["key_conditions"] == [{"label": "已发送的报价"}]
    moved = entered + DAY
    assert path["current"] == {
        "value": "needs_analysis", "entered_at": _z(moved), "due_at": _z(moved + 7 * DAY),
        "overdue": True,
        "missing": {"fields": [{"name": "budget", "label": "预算"}], "conditions": []}}
    assert path["history"] == [
        {"value": "initial_contact", "entered_at": _z(entered), "left_at": _z(moved)},
        {"value": "needs_analysis", "entered_at": _z(moved), "left_at": None}]

    # the form says the same of every stage, for a new record
    form = await world.as_("zhang").get(f"/api/apps/{APP}/forms/opportunity")
    assert form.status_code == 200, form.text
    [described] = form.json()["stages"]
    assert described["stages"][1] == needs
    # and in English for an English reader
    english = await world.as_("zhang").get(f"/api/apps/{APP}/forms/opportunity",
                                           headers={"Accept-Language": "en"})
    assert english.json()["stages"][0]["stages"][2]["time_limit_text"] == "14 days"


async def test_the_demo_and_quote_stages_need_their_own_evidence(world: World) -> None:
    _lead, _customer, deal, _ = await converted(world)
    await analysed(world, deal)
    await demonstrated(world, deal)
    response = await world.as_("zhang").get(
        f"/api/apps/{APP}/records/opportunity/{deal['id']}/related")
    assert response.json()["stages"][0]["current"]["missing"] == {"fields": [],
                                                                  "conditions": []}
    # at the quote stage, leaving needs a quote that was sent
    assert (await patch(world, "zhang", deal, {"stage": "quote"})).status_code == 200
    response = await world.as_("zhang").get(
        f"/api/apps/{APP}/records/opportunity/{deal['id']}/related")
    assert response.json()["stages"][0]["current"]["missing"] == {
        "fields": [], "conditions": [{"label": "已发送的报价"}]}


def _z(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z")
