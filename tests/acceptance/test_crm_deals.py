"""Stories of CRM_TEMPLATE.md §1 from a qualified lead to the money: follow-ups, conversion
into customer + contact + opportunity, stages, the stale-opportunity notice, quote sent →
draft contract for legal, signing → formal customer and welcome email, payments rolled up
into the contract until it is paid and the opportunity won, and the after-sales visit a
month later."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from crm_world import APP, World
from deal_steps import approve_all, claimed_lead, converted, signed, up_to_quote

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


async def test_follow_ups_are_data_and_conversion_makes_customer_contact_opportunity(
        world: World) -> None:
    lead = await claimed_lead(world)
    note = await world.create("follow_up", {
        "lead": lead["id"], "kind": "call", "happened_at": world.now().isoformat(),
        "budget": 80000, "decision_chain": "信息部经理 → 副总裁", "pain_points": "旧系统响应慢",
        "notes": "客户说预算有限"}, by="zhang")
    assert note["notes"] == "客户说预算有限"
    assert (await world.get("lead", lead["id"]))["status"] == "contacting"

    response = await world.action("lead", lead["id"], "convert", by="zhang")

    assert response.status_code == 200, response.text
    lead = await world.get("lead", lead["id"], by="zhang")
    assert lead["status"] == "converted"
    customer = await world.get("customer", lead["converted_customer"], by="zhang")
    contact = await world.get("contact", lead["converted_contact"], by="zhang")
    opportunity = await world.get("opportunity", lead["converted_opportunity"], by="zhang")
    assert (customer["name"], customer["tag"], customer["region"], customer["owner"]) == (
        "杭州云启科技有限公司", "prospect", "east_china", world.id("zhang"))
    assert (contact["name"], contact["customer"], contact["phone"]) == (
        "陈晓明", customer["id"], "13912345678")
    assert (opportunity["customer"], opportunity["contact"], opportunity["stage"],
            Decimal(str(opportunity["amount"]))) == (customer["id"], contact["id"],
                                                     "initial_contact", Decimal(80000))
    # converting twice is refused: the lead already became what it became
    again = await world.action("lead", lead["id"], "convert", by="zhang")
    assert again.status_code in (409, 422), again.text
    assert len(await world.find("customer")) == 1


async def test_an_opportunity_stuck_in_initial_contact_for_3_days_tells_the_manager(
        world: World) -> None:
    _lead, _customer, stuck, _ = await converted(world)
    _lead2, _customer2, moving, _ = await converted(world, rep="li", company="苏州远航物流有限公司")
    await world.advance(DAY)
    await world.create("follow_up", {"opportunity": moving["id"], "kind": "visit",
                                     "happened_at": world.now().isoformat()}, by="li")

    await world.advance(2 * DAY + HOUR)

    manager = [t for t in await world.titles("east_manager") if t.startswith("商机停滞")]
    assert manager == [f"商机停滞：{stuck['name']}"]
    # moving on leaves no notice behind: the clock restarts with the stage
    await world.change("opportunity", moving["id"], {"stage": "needs_analysis"}, by="li")
    await world.advance(4 * DAY)
    assert [t for t in await world.titles("east_manager") if t.startswith("商机停滞")] == \
        manager


async def test_a_sent_quote_drafts_a_contract_and_tells_legal(world: World) -> None:
    _lead, customer, opportunity, _ = await converted(world)

    quote = await up_to_quote(world, opportunity)

    assert Decimal(str(quote["total"])) == Decimal("108000.00")  # 2 × 60,000 − 10 %
    assert (quote["customer"], quote["owner"]) == (customer["id"], world.id("zhang"))
    [contract] = await world.find("contract", by="zhang")
    assert (contract["status"], contract["quote"], contract["opportunity"],
            Decimal(str(contract["amount"]))) == ("draft", quote["id"], opportunity["id"],
                                                  Decimal("108000.00"))
    assert contract["number"]  # a serial number
    assert (await world.get("opportunity", opportunity["id"]))["stage"] == "quote"
    for legal in ("legal_chen", "legal_zhou"):
        assert f"新合同草稿待审阅：{opportunity['name']}" in await world.titles(legal)


async def test_signed_contract_makes_a_formal_customer_payments_roll_up_to_paid_and_won(
        world: World) -> None:
    _lead, customer, opportunity, _ = await converted(world)
    await world.change("customer", customer["id"], {"email": "it@yunqi.cn"}, by="zhang")
    await up_to_quote(world, opportunity)
    [contract] = await world.find("contract", by="zhang")
    assert (await world.action("contract", contract["id"], "submit", by="zhang")
            ).status_code == 200
    await approve_all(world, contract["id"])
    assert (await world.get("contract", contract["id"]))["status"] == "approved"

    signed = await world.action("contract", contract["id"], "mark_signed", by="zhang")

    assert signed.status_code == 200, signed.text
    assert (await world.get("customer", customer["id"]))["tag"] == "formal"
    assert [m["summary"] for m in await world.outbox() if m["kind"] == "email"] == [
        "it@yunqi.cn: 欢迎成为我们的客户，杭州云启科技有限公司"]

    for amount in ("50000", "58000"):
        await world.create("payment", {"contract": contract["id"], "amount": amount,
                                       "paid_on": world.now().date().isoformat(),
                                       "method": "bank_transfer"}, by="finance")
        contract = await world.get("contract", contract["id"])
        if amount == "50000":
            assert Decimal(str(contract["received_amount"])) == Decimal(50000)
            assert contract["status"] == "signed"
    assert (Decimal(str(contract["received_amount"])), contract["status"]) == (
        Decimal(108000), "paid")
    won = await world.get("opportunity", opportunity["id"])
    assert (won["stage"], won["probability"]) == ("won", 100)
    assert f"合同已全部回款：{contract['number']}" in await world.titles("zhang")


async def test_one_month_after_signing_the_service_team_calls_the_customer(
        world: World) -> None:
    _lead, customer, opportunity, _ = await converted(world)
    await up_to_quote(world, opportunity)
    [contract] = await world.find("contract", by="zhang")
    await world.action("contract", contract["id"], "submit", by="zhang")
    await approve_all(world, contract["id"])
    await world.action("contract", contract["id"], "mark_signed", by="zhang")

    await world.advance(29 * DAY)
    assert await world.find("visit") == []
    await world.advance(3 * DAY)

    [visit] = await world.find("visit")
    assert (visit["kind"], visit["contract"], visit["customer"]) == (
        "after_sales", contract["id"], customer["id"])
    assert any(t.startswith("售后回访") for t in await world.titles("service_lead"))


async def test_won_means_the_signed_contract_not_the_leads_budget(world: World) -> None:
    """The field report: a deal won at the lead's budget (250,000) while its signed and
    paid contract was 108,410, and the dashboard said 250,000 won."""
    _lead, _customer, deal, _ = await converted(world, budget=250000)
    assert Decimal(str(deal["amount"])) == 250000  # the first estimate: the lead's budget
    await up_to_quote(world, deal, price=54205, quantity=2, discount=0)
    [contract] = await world.find("contract", by="zhang")
    assert Decimal(str(contract["amount"])) == Decimal("108410")

    await signed(world, contract)

    deal = await world.get("opportunity", deal["id"])
    assert (deal["stage"], Decimal(str(deal["amount"])),
            Decimal(str(deal["signed_amount"]))) == ("contract_approval", 108410, 108410)
    # once signed, the amount is the contract's: a hand-typed figure does not stick
    kept = await world.change("opportunity", deal["id"], {"amount": 250000}, by="zhang")
    assert Decimal(str(kept["amount"])) == 108410

    # finance records the two payments a week later, each dated the day it arrived
    await world.advance(7 * DAY)
    for amount, paid_on in (("60000", "2026-11-04"), ("48410", "2026-11-06")):
        await world.create("payment", {"contract": contract["id"], "amount": amount,
                                       "paid_on": paid_on}, by="finance")

    contract = await world.get("contract", contract["id"])
    assert (contract["status"], contract["paid_on"]) == ("paid", "2026-11-06")
    assert world.now().date().isoformat() == "2026-11-09"  # not the day it was recorded
    deal = await world.get("opportunity", deal["id"])
    assert (deal["stage"], Decimal(str(deal["amount"])), deal["closed_on"]) == (
        "won", 108410, "2026-11-06")
    board = await world.as_("director").get(f"/api/apps/{APP}/dashboards/sales",
                                            params={"period": "this_month"})
    widgets = {w["name"]: w for w in board.json()["widgets"]}
    assert widgets["won_amount"]["value"] == 108410
    assert [(r["label"], r["values"]["won_amount"]) for r in
            widgets["leaderboard"]["rows"]] == [("张伟", 108410)]
