"""The steps of a deal through the sales SOP, as the people of the CRM world take them over
HTTP: a claimed lead converted, the need analysed in a follow-up, the demo held, a quote
sent, the contract approved and signed. Stories of several files walk this road."""

from __future__ import annotations

from typing import Any

from crm_world import World


async def claimed_lead(world: World, rep: str = "zhang", company: str = "杭州云启科技有限公司",
                       budget: int | None = 80000) -> dict[str, Any]:
    lead = await world.create("lead", {
        "name": "陈晓明", "company": company, "phone": "13912345678",
        "email": "chen@yunqi.cn", "region": "east_china", "source": "website",
        "job_title": "信息部经理", "budget": budget})
    assert (await world.action("lead", lead["id"], "claim", by=rep)).status_code == 200
    return lead


async def converted(world: World, rep: str = "zhang", company: str = "杭州云启科技有限公司",
                    budget: int | None = 80000) -> tuple[dict, dict, dict, dict]:
    """A lead claimed by ``rep`` and converted: (lead, customer, opportunity, answer)."""
    lead = await claimed_lead(world, rep, company, budget)
    response = await world.action("lead", lead["id"], "convert", by=rep)
    assert response.status_code == 200, response.text
    lead = await world.get("lead", lead["id"], by=rep)
    customer = await world.get("customer", lead["converted_customer"], by=rep)
    opportunity = await world.get("opportunity", lead["converted_opportunity"], by=rep)
    return lead, customer, opportunity, response.json()


async def analysed(world: World, opportunity: dict[str, Any], rep: str = "zhang") -> None:
    """Needs analysis: a visit records the decision chain and the pain points (the
    follow-up fills them in on the opportunity), and the deal moves on to it."""
    await world.change("opportunity", opportunity["id"], {"stage": "needs_analysis"}, by=rep)
    await world.create("follow_up", {
        "opportunity": opportunity["id"], "kind": "visit",
        "happened_at": world.now().isoformat(), "summary": "需求调研",
        "decision_chain": "信息部经理评估 → 副总裁拍板", "pain_points": "旧系统响应慢，报表靠手工"},
        by=rep)


async def demonstrated(world: World, opportunity: dict[str, Any], rep: str = "zhang") -> None:
    """The demo: held for the decision makers, its date and attendees noted."""
    await world.change("opportunity", opportunity["id"], {
        "stage": "demo", "demo_date": world.now().date().isoformat(),
        "demo_attendees": "副总裁、信息部经理"}, by=rep)


async def quote_sent(world: World, opportunity: dict, price: int = 60000, quantity: int = 2,
                     discount: int = 10, rep: str = "zhang") -> dict:
    product = await world.create("product", {"name": "云启 CRM 企业版", "price": price})
    quote = await world.create("quote", {"opportunity": opportunity["id"]}, by=rep)
    await world.create("quote_item", {"quote": quote["id"], "product": product["id"],
                                      "quantity": quantity, "discount": discount}, by=rep)
    response = await world.action("quote", quote["id"], "mark_sent", by=rep)
    assert response.status_code == 200, response.text
    return await world.get("quote", quote["id"], by=rep)


async def up_to_quote(world: World, opportunity: dict[str, Any], rep: str = "zhang",
                      **quote: int) -> dict[str, Any]:
    """Through needs analysis and the demo to a sent quote; returns the quote."""
    await analysed(world, opportunity, rep)
    await demonstrated(world, opportunity, rep)
    return await quote_sent(world, opportunity, rep=rep, **quote)


async def approve_all(world: World, contract_id: int) -> None:
    """Everyone the approval flow asks, in turn, approves."""
    for _ in range(8):
        asked = [(key, t) for key in world.users for t in await world.tasks(key)
                 if (t["entity"], t["record_id"]) == ("contract", contract_id)
                 and "approve" in t["actions"]]
        if not asked:
            return
        for key, task in asked:
            response = await world.task_act(key, task["id"], "approve", comment="同意")
            assert response.status_code == 200, response.text


async def signed(world: World, contract: dict[str, Any], rep: str = "zhang") -> None:
    """Submitted, approved by everyone asked, and signed."""
    response = await world.action("contract", contract["id"], "submit", by=rep)
    assert response.status_code == 200, response.text
    await approve_all(world, contract["id"])
    response = await world.action("contract", contract["id"], "mark_signed", by=rep)
    assert response.status_code == 200, response.text
