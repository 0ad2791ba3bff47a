"""Saved list views of the CRM template, opened over HTTP by the people they are for: the
lead pool of a rep's team, my leads, contracts awaiting payment, my tickets by SLA."""

from __future__ import annotations

import json
from typing import Any

from crm_world import APP, World

VIEWS = f"/api/apps/{APP}/views"


async def open_view(world: World, name: str, by: str, **params: Any) -> dict[str, Any]:
    response = await world.as_(by).get(f"{VIEWS}/{name}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def names(body: dict[str, Any]) -> list[str]:
    return [item["name"] for item in body["items"]]


async def test_the_lead_pool_shows_the_unowned_leads_of_the_reps_own_team(world: World) -> None:
    east = await world.create("lead", {"name": "East pool", "region": "east_china"})
    await world.create("lead", {"name": "North pool", "region": "north_china"})
    await world.create("lead", {"name": "East owned", "region": "east_china",
                                "owner": world.id("li")})
    await world.create("lead", {"name": "No team"})
    assert (await world.get("lead", east["id"]))["team"] == world.teams["east_china_team"]

    zhang = await open_view(world, "lead_pool", "zhang")
    assert names(zhang) == ["East pool"]
    assert zhang["count"] == 1 and zhang["count_capped"] is False
    assert names(await open_view(world, "lead_pool", "sun")) == ["North pool"]
    # the records API lets a rep read every unowned lead; the view narrows to the team
    everything = await world.find("lead", {"is_blank": {"var": "owner"}}, by="zhang")
    assert {"East pool", "North pool", "No team"} <= {lead["name"] for lead in everything}

    claimed = await world.action("lead", east["id"], "claim", by="zhang")
    assert claimed.status_code == 200, claimed.text
    assert names(await open_view(world, "lead_pool", "zhang")) == []
    assert names(await open_view(world, "my_leads", "zhang")) == ["East pool"]


async def test_my_leads_lists_only_the_readers_leads_with_the_views_columns(
        world: World) -> None:
    for name, owner in (("Zhang 1", "zhang"), ("Li 1", "li"), ("Zhang 2", "zhang")):
        await world.create("lead", {"name": name, "company": f"{name} Ltd",
                                    "owner": world.id(owner)})
    await world.create("lead", {"name": "Zhang lost", "owner": world.id("zhang"),
                                "status": "unqualified"})
    body = await open_view(world, "my_leads", "zhang")
    assert sorted(names(body)) == ["Zhang 1", "Zhang 2"]
    assert [c["name"] for c in body["columns"]] == [
        "name", "company", "phone", "status", "next_follow_up_on", "last_follow_up_at"]
    assert body["columns"][0]["label"] == "Contact name"
    status = body["columns"][3]
    assert status["type"] == "select" and status["options"][0] == {
        "value": "new", "label": "New", "category": "open"}
    assert set(body["items"][0]) == {"id", "version", "name", "company", "phone", "status",
                                     "next_follow_up_on", "last_follow_up_at"}
    assert body["view"]["label"] == "My leads" and body["view"]["kind"] == "list"
    assert names(await open_view(world, "my_leads", "li")) == ["Li 1"]
    zh = await world.as_("zhang").get(f"{VIEWS}/my_leads", headers={"Accept-Language": "zh-CN"})
    assert zh.json()["view"]["label"] == "我的线索"


async def test_a_view_pages_by_keyset_cursor_and_the_reader_may_narrow_it(world: World) -> None:
    for number in range(5):
        await world.create("lead", {"name": f"Lead {number}", "owner": world.id("zhang"),
                                    "company": "Acme" if number % 2 else "Other"})
    first = await open_view(world, "my_leads", "zhang", limit=2)
    assert len(first["items"]) == 2 and first["next_cursor"] and first["count"] == 5
    seen = names(first)
    cursor = first["next_cursor"]
    while cursor:
        page = await open_view(world, "my_leads", "zhang", limit=2, cursor=cursor)
        seen += names(page)
        cursor = page["next_cursor"]
    assert sorted(seen) == [f"Lead {n}" for n in range(5)]
    narrowed = await open_view(world, "my_leads", "zhang",
                               filter=json.dumps({"==": [{"var": "company"}, "Acme"]}))
    assert sorted(names(narrowed)) == ["Lead 1", "Lead 3"]
    # narrowing never widens: another rep's lead stays out whatever the filter says
    await world.create("lead", {"name": "Li's", "owner": world.id("li"), "company": "Acme"})
    assert "Li's" not in names(await open_view(
        world, "my_leads", "zhang", filter=json.dumps({"==": [{"var": "company"}, "Acme"]})))


async def _contract(world: World, customer: int, amount: int, status: str) -> dict[str, Any]:
    return await world.create("contract", {"customer": customer, "amount": amount,
                                           "status": status, "title": f"{status} {amount}",
                                           "owner": world.id("zhang")})


async def test_contracts_awaiting_payment_are_signed_and_not_fully_received(
        world: World) -> None:
    customer = await world.create("customer", {"name": "云启科技", "tag": "prospect",
                                               "owner": world.id("zhang")})
    partly = await _contract(world, customer["id"], 1000, "signed")
    unpaid = await _contract(world, customer["id"], 300, "signed")
    paid = await _contract(world, customer["id"], 500, "signed")
    await _contract(world, customer["id"], 800, "draft")
    for contract, amount in ((partly, 400), (paid, 500)):
        await world.create("payment", {"contract": contract["id"], "amount": amount,
                                       "paid_on": "2026-11-02"})
    body = await open_view(world, "contracts_awaiting_payment", "admin")
    assert {item["id"] for item in body["items"]} == {partly["id"], unpaid["id"]}
    by_id = {item["id"]: item for item in body["items"]}
    assert by_id[partly["id"]]["received_amount"] in ("400.00", 400)
    # a service engineer may read contracts but not their amounts: the view still selects
    # by them (the builder's filter), and the columns and values are gone
    engineer = await open_view(world, "contracts_awaiting_payment", "engineer_wu")
    assert {item["id"] for item in engineer["items"]} == {partly["id"], unpaid["id"]}
    shown = [c["name"] for c in engineer["columns"]]
    assert "amount" not in shown and "received_amount" not in shown and "number" in shown
    assert all("amount" not in item and "received_amount" not in item
               for item in engineer["items"])


async def test_my_tickets_are_the_readers_open_tickets_soonest_due_first(world: World) -> None:
    customer = await world.create("customer", {"name": "华东制造", "tag": "formal"})
    created = []
    for subject, priority in (("Printer", "p3"), ("Outage", "p1"), ("Question", "p4")):
        created.append(await world.create("ticket", {
            "subject": subject, "customer": customer["id"], "channel": "phone",
            "type": "fault", "priority": priority, "status": "new",
            "assignee": world.id("engineer_wu")}))
    tickets = [await world.get("ticket", t["id"]) for t in created]
    mine = [t for t in tickets if t["assignee"] == world.id("engineer_wu")]
    assert mine  # routing may reassign some tickets, not all
    body = await open_view(world, "my_tickets", "engineer_wu")
    assert {item["id"] for item in body["items"]} == {t["id"] for t in mine}
    dues = [item["resolve_due_at"] for item in body["items"]]
    assert dues == sorted(dues, key=lambda due: (due is None, due or ""))
    others = await open_view(world, "my_tickets", "engineer_zheng")
    assert not {item["id"] for item in others["items"]} & {t["id"] for t in mine}
