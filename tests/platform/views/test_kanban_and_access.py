"""The opportunity kanban by stage, and who may open which view: role-restricted views, a
role without read on the entity, hidden fields."""

from __future__ import annotations

from typing import Any

from crm_world import APP, World, sop_ready

VIEWS = f"/api/apps/{APP}/views"
STAGES = ["initial_contact", "needs_analysis", "demo", "quote", "contract_approval", "won",
          "lost"]


async def _opportunities(world: World) -> None:
    customer = await world.create("customer", {"name": "看板客户", "tag": "prospect"})
    contact = await world.create("contact", {"name": "钱经理", "customer": customer["id"]})
    plan = [("zhang", "initial_contact", 100), ("zhang", "initial_contact", 300),
            ("zhang", "demo", 200), ("li", "demo", 50), ("li", "lost", 900)]
    for number, (owner, stage, amount) in enumerate(plan):
        await world.create("opportunity", {"name": f"Deal {number}", "customer": customer["id"],
                                           "stage": stage, "amount": amount,
                                           "owner": world.id(owner), "lost_reason": "price"
                                           if stage == "lost" else None,
                                           **sop_ready(contact["id"])})


def lanes(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lane["value"]: lane for lane in body["columns"]}


async def test_the_kanban_has_a_column_per_stage_in_order_with_counts_per_reader(
        world: World) -> None:
    await _opportunities(world)
    response = await world.as_("zhang").get(f"{VIEWS}/opportunity_kanban")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [lane["value"] for lane in body["columns"]] == STAGES
    assert body["view"]["kind"] == "kanban" and body["view"]["group_by"] == "stage"
    by_stage = lanes(body)
    assert by_stage["won"]["category"] == "won" and by_stage["lost"]["category"] == "lost"
    assert by_stage["initial_contact"]["label"] == "Initial contact"
    # a rep reads their own opportunities only
    assert {s: lane["count"] for s, lane in by_stage.items()} == {
        "initial_contact": 2, "needs_analysis": 0, "demo": 1, "quote": 0,
        "contract_approval": 0, "won": 0, "lost": 0}
    # cards follow the view's sort (-amount) and carry the card fields only
    assert [card["amount"] for card in by_stage["initial_contact"]["items"]] in (
        [300, 100], ["300.00", "100.00"])
    assert [f["name"] for f in body["fields"]] == [
        "name", "customer", "amount", "expected_close_date", "owner"]
    everyone = lanes((await world.admin.get(f"{VIEWS}/opportunity_kanban")).json())
    assert everyone["demo"]["count"] == 2 and everyone["lost"]["count"] == 1


async def test_kanban_columns_total_the_views_number_field_for_the_reader(
        world: World) -> None:
    await _opportunities(world)
    body = (await world.as_("zhang").get(f"{VIEWS}/opportunity_kanban")).json()
    assert body["view"]["sum"] == "amount"
    totals = {stage: lane["sum"] for stage, lane in lanes(body).items()}
    assert totals["initial_contact"] == 400 and totals["demo"] == 200
    assert totals["quote"] is None  # nothing to total
    everyone = lanes((await world.admin.get(f"{VIEWS}/opportunity_kanban")).json())
    assert everyone["demo"]["sum"] == 250 and everyone["lost"]["sum"] == 900


async def test_one_kanban_column_pages_on_by_itself(world: World) -> None:
    await _opportunities(world)
    first = await world.admin.get(f"{VIEWS}/opportunity_kanban",
                                  params={"group": "initial_contact", "limit": 1})
    assert first.status_code == 200, first.text
    [lane] = first.json()["columns"]
    assert lane["value"] == "initial_contact" and lane["count"] == 2
    assert len(lane["items"]) == 1 and lane["next_cursor"]
    second = await world.admin.get(f"{VIEWS}/opportunity_kanban", params={
        "group": "initial_contact", "limit": 1, "cursor": lane["next_cursor"]})
    [rest] = second.json()["columns"]
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert rest["items"][0]["id"] != lane["items"][0]["id"]


async def test_views_are_listed_for_those_who_may_open_them(world: World) -> None:
    listed = await world.as_("zhang").get(VIEWS)
    assert listed.status_code == 200, listed.text
    rep = {view["name"] for view in listed.json()["items"]}
    assert {"lead_pool", "my_leads", "opportunity_kanban", "my_tickets"} <= rep
    assert "ticket_sla_board" not in rep  # for the service roles only
    legal = {view["name"] for view in (await world.as_("legal_chen").get(VIEWS)).json()["items"]}
    assert "lead_pool" not in legal and "my_tickets" not in legal  # no read on leads, tickets
    assert "contracts_awaiting_payment" in legal
    engineer = (await world.as_("engineer_wu").get(VIEWS)).json()["items"]
    assert "ticket_sla_board" in {view["name"] for view in engineer}


async def test_a_role_without_read_cannot_open_the_view(world: World) -> None:
    refused = await world.as_("legal_chen").get(f"{VIEWS}/lead_pool")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    hidden = await world.as_("zhang").get(f"{VIEWS}/ticket_sla_board")
    assert hidden.status_code == 404  # a view not for them does not exist for them
    assert hidden.headers["content-type"].startswith("application/problem+json")
    board = await world.as_("engineer_wu").get(f"{VIEWS}/ticket_sla_board")
    assert board.status_code == 200, board.text
    assert [lane["value"] for lane in board.json()["columns"]][:4] == [
        "on_track", "at_risk", "breached", "met"]


async def test_fields_a_role_hides_are_absent_from_columns_and_rows(world: World) -> None:
    role = await world.admin.get(f"/api/apps/{APP}/roles/sales_rep")
    assert role.status_code == 200, role.text
    permissions = role.json()["permissions"]
    permissions["lead"]["fields"] = {"company": "hidden"}
    changed = await world.admin.put(f"/api/apps/{APP}/roles/sales_rep",
                                    json={"permissions": permissions})
    assert changed.status_code == 200, changed.text
    await world.create("lead", {"name": "Secretive", "company": "Hidden Co",
                                "owner": world.id("zhang")})
    body = (await world.as_("zhang").get(f"{VIEWS}/my_leads")).json()
    assert "company" not in [c["name"] for c in body["columns"]]
    assert body["items"] and all("company" not in item for item in body["items"])
    # the reader's own filter may not read it either (it would reveal the values)
    probing = await world.as_("zhang").get(f"{VIEWS}/my_leads", params={
        "filter": '{"==": [{"var": "company"}, "Hidden Co"]}'})
    assert probing.status_code == 422
    assert probing.json()["errors"][0]["field"] == "company"
    manager = (await world.as_("east_manager").get(f"{VIEWS}/my_leads")).json()
    assert "company" in [c["name"] for c in manager["columns"]]


async def test_a_ranked_kanban_orders_cards_by_rank_then_its_sort(world: World) -> None:
    customer = await world.create("customer", {"name": "排序客户", "tag": "prospect"})
    contact = await world.create("contact", {"name": "孙经理", "customer": customer["id"]})
    for name, amount, rank in (("甲", 100, None), ("乙", 900, 2), ("丙", 500, 1),
                               ("丁", 800, None)):
        await world.create("opportunity", {
            "name": name, "customer": customer["id"], "stage": "demo", "amount": amount,
            "board_rank": rank, **sop_ready(contact["id"])})
    body = (await world.admin.get(f"{VIEWS}/opportunity_kanban")).json()
    assert body["view"]["rank"] == "board_rank"  # the CRM's board keeps people's order
    demo = lanes(body)["demo"]["items"]
    # ranked cards first by rank, the others after them by the view's sort (-amount)
    assert [card["name"] for card in demo] == ["丙", "乙", "丁", "甲"]
    assert [card["board_rank"] for card in demo][:2] in ([1, 2], ["1.0000", "2.0000"])


async def test_a_rank_must_be_a_number_people_may_set_on_a_kanban(world: World) -> None:
    drafted = await world.admin.patch(f"/api/apps/{APP}/metadata/draft", json={
        "views": {"opportunity_kanban": {"rank": "name"},
                  "my_opportunities": {"rank": "amount"}}},
        headers={"Content-Type": "application/merge-patch+json"})
    problems = {p["field"]: p["message"] for p in drafted.json()["problems"]}
    assert problems["views.opportunity_kanban.rank"] == \
        "cards are ranked by a number field people may set, and 'name' is text"
    assert problems["views.my_opportunities.rank"] == "rank applies to kanban views only"
