"""The contract approval flow of CRM_TEMPLATE.md §1 (审批): the sales manager always; above
100,000 the sales director too; legal and finance sign in parallel (会签, every one of them);
an approver may send it back (退回) with a comment or transfer it (转交); the owner's
manager is copied (抄送); a task waiting 48 hours reminds its approver."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from crm_world import World

HOUR = timedelta(hours=1)


async def submitted_contract(world: World, amount: int, *, title: str = "服务器采购合同",
                             by: str = "zhang") -> dict[str, Any]:
    customer = await world.create("customer", {"name": "南京星河电子有限公司",
                                               "owner": world.id("zhang")}, by="zhang")
    contract = await world.create("contract", {
        "title": title, "customer": customer["id"], "owner": world.id("zhang"),
        "amount": amount, "status": "draft"}, by="zhang")
    response = await world.action("contract", contract["id"], "submit", by=by)
    assert response.status_code == 200, response.text
    return contract


async def approvals(world: World, key: str, contract_id: int) -> list[dict[str, Any]]:
    return [t for t in await world.tasks(key)
            if (t["entity"], t["record_id"]) == ("contract", contract_id)
            and "approve" in t["actions"]]


async def who_is_asked(world: World, contract_id: int) -> set[str]:
    return {key for key in world.users if await approvals(world, key, contract_id)}


async def decide(world: World, key: str, contract_id: int, action: str = "approve",
                 **body: Any) -> None:
    [task] = await approvals(world, key, contract_id)
    response = await world.task_act(key, task["id"], action, **body)
    assert response.status_code == 200, response.text


async def test_a_small_contract_goes_manager_then_legal_and_finance_together(
        world: World) -> None:
    contract = await submitted_contract(world, 60000)

    assert await who_is_asked(world, contract["id"]) == {"east_manager"}
    await decide(world, "east_manager", contract["id"], comment="同意")
    # no director below 100,000; legal (both of them) and finance at the same time
    assert await who_is_asked(world, contract["id"]) == {"legal_chen", "legal_zhou", "finance"}
    await decide(world, "legal_chen", contract["id"])
    await decide(world, "finance", contract["id"])
    assert await who_is_asked(world, contract["id"]) == {"legal_zhou"}  # 会签: all of legal
    assert (await world.get("contract", contract["id"]))["status"] == "in_approval"
    await decide(world, "legal_zhou", contract["id"])

    approved = await world.get("contract", contract["id"])
    assert approved["status"] == "approved" and approved["approved_at"]
    assert f"合同审批通过：{approved['number']}" in await world.titles("zhang")


async def test_above_100000_the_director_approves_too_and_may_transfer(world: World) -> None:
    contract = await submitted_contract(world, 150000)
    await decide(world, "east_manager", contract["id"])
    assert await who_is_asked(world, contract["id"]) == {"director"}

    await decide(world, "director", contract["id"], "transfer", user=world.id("north_manager"),
                 comment="出差中，请赵强代批")

    assert await who_is_asked(world, contract["id"]) == {"north_manager"}
    await decide(world, "north_manager", contract["id"])
    assert await who_is_asked(world, contract["id"]) == {"legal_chen", "legal_zhou", "finance"}


async def test_legal_sends_it_back_with_a_comment_and_the_owner_resubmits(
        world: World) -> None:
    contract = await submitted_contract(world, 60000)
    await decide(world, "east_manager", contract["id"])

    await decide(world, "legal_chen", contract["id"], "send_back", target_node="start",
                 comment="违约条款需要修改")

    assert await who_is_asked(world, contract["id"]) == set()
    [resubmit] = [t for t in await world.tasks("zhang") if t["entity"] == "contract"
                  and t["record_id"] == contract["id"] and t["kind"] != "cc"]
    instance = (await world.admin.get("/api/apps/crm/flow-instances", params={
        "record": contract["id"], "entity": "contract"})).json()["items"][0]
    history = (await world.admin.get(f"/api/apps/crm/flow-instances/{instance['id']}")
               ).json()["history"]
    assert any(h.get("comment") == "违约条款需要修改" for h in history), history
    response = await world.task_act("zhang", resubmit["id"], "complete", comment="已修改条款")
    assert response.status_code == 200, response.text
    assert await who_is_asked(world, contract["id"]) == {"east_manager"}


async def test_the_owners_manager_is_copied_once_not_twice(world: World) -> None:
    # the manager submits a rep's contract: the director approves, the rep's manager is
    # copied (抄送); when the rep submits, the manager approves and needs no copy as well
    on_behalf = await submitted_contract(world, 60000, by="east_manager")
    assert await who_is_asked(world, on_behalf["id"]) == {"director"}
    assert "抄送：销售经理审批" in await world.titles("east_manager")
    [copy] = [t for t in await world.tasks("east_manager") if t["kind"] == "cc"]
    assert (copy["record_id"], copy["actions"]) == (on_behalf["id"], ["complete"])

    own = await submitted_contract(world, 60000, title="软件许可合同")
    assert await who_is_asked(world, own["id"]) == {"east_manager"}
    assert [t["record_id"] for t in await world.tasks("east_manager") if t["kind"] == "cc"] \
        == [on_behalf["id"]]


async def test_an_approval_waiting_48_hours_reminds_its_approver(world: World) -> None:
    contract = await submitted_contract(world, 60000)
    await decide(world, "east_manager", contract["id"])
    before = await world.titles("finance")

    await world.advance(47 * HOUR)
    assert await world.titles("finance") == before
    await world.advance(2 * HOUR)

    assert await world.titles("finance") == ["提醒：财务会签", *before]
    assert len(await approvals(world, "finance", contract["id"])) == 1  # still theirs
