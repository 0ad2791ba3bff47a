"""A quote and its line items (报价与报价明细) are one document: a salesperson posts the
quote with its items, changes them in one save, and reads it back whole — the items priced
from the product list by their own rule, the total rolled up in the same save."""

from __future__ import annotations

from decimal import Decimal

from crm_world import APP, RECORDS, World, sop_ready


async def opportunity_of(world: World, rep: str = "zhang") -> dict:
    customer = await world.create("customer", {"name": "杭州云启科技有限公司",
                                               "tag": "prospect", "owner": world.id(rep)})
    contact = await world.create("contact", {"name": "钱经理", "customer": customer["id"]})
    return await world.create("opportunity", {
        "name": "云启 CRM 项目", "customer": customer["id"], "stage": "quote",
        "owner": world.id(rep), **sop_ready(contact["id"])})


async def test_a_quote_is_posted_changed_and_read_with_its_items(world: World) -> None:
    opportunity = await opportunity_of(world)
    crm = await world.create("product", {"name": "云启 CRM 企业版", "price": 60000})
    training = await world.create("product", {"name": "实施培训", "price": 5000})
    quote = await world.create("quote", {"opportunity": opportunity["id"], "items": [
        {"product": crm["id"], "quantity": 2, "discount": 10},  # list price from the product
        {"product": training["id"], "quantity": 3, "unit_price": 4500},
        {"description": "上门服务", "quantity": 1, "unit_price": 800}]}, by="zhang")
    items = quote["items"]
    assert [Decimal(str(item["amount"])) for item in items] == [
        Decimal("108000.00"), Decimal("13500.00"), Decimal("800.00")]
    assert Decimal(str(quote["total"])) == Decimal("122300.00")
    assert {item["quote"] for item in items} == {quote["id"]}
    assert (quote["owner"], quote["status"], quote["version"]) == (
        world.id("zhang"), "draft", 1)

    # one save: the first item changed, the second removed, a new one added
    first, _second, third = items
    response = await world.as_("zhang").patch(
        f"{RECORDS}/quote/{quote['id']}", headers={"If-Match": str(quote["version"])},
        json={"items": [{"id": first["id"], "version": first["version"], "quantity": 3},
                        third,
                        {"product": training["id"], "quantity": 1}]})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert Decimal(str(changed["total"])) == Decimal("162000.00") + 800 + 5000
    assert [item["product"] for item in changed["items"]] == [
        crm["id"], None, training["id"]]
    assert changed["version"] == 2 and changed["items"][0]["version"] == 2
    history = (await world.admin.get(f"{RECORDS}/quote/{quote['id']}/history")).json()
    assert [entry["action"] for entry in history["items"]] == ["create", "update"]

    # the sent quote reads back whole, and its total lets it be marked sent
    sent = await world.action("quote", quote["id"], "mark_sent", by="zhang")
    assert sent.status_code == 200, sent.text
    read = await world.get("quote", quote["id"], by="zhang")
    assert read["status"] == "sent" and len(read["items"]) == 3


async def test_a_bad_item_refuses_the_quote_in_the_readers_language(world: World) -> None:
    opportunity = await opportunity_of(world)
    response = await world.as_("zhang").post(f"{RECORDS}/quote", json={
        "opportunity": opportunity["id"], "items": [
            {"description": "软件", "quantity": 1, "unit_price": 100},
            {"description": "服务", "quantity": 1, "unit_price": -100}]})
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "items[1].unit_price" and "单价" in error["message"]
    assert await world.find("quote") == [] and await world.find("quote_item") == []
    # the form check says the same before anything is saved
    check = await world.as_("zhang").post(f"/api/apps/{APP}/forms/quote/check", json={
        "opportunity": opportunity["id"], "status": "draft", "items": [
            {"description": "服务", "unit_price": -100, "quantity": None}]})
    assert check.status_code == 200, check.text
    assert {(e["field"], e["code"]) for e in check.json()["errors"]} == {
        ("items[0].unit_price", "too_small"), ("items[0].quantity", "required")}


async def test_items_show_only_the_fields_the_readers_role_shows(world: World) -> None:
    role = (await world.admin.get(f"/api/apps/{APP}/roles/sales_rep")).json()
    role["permissions"]["quote_item"]["fields"] = {"discount": "hidden"}
    changed = await world.admin.put(f"/api/apps/{APP}/roles/sales_rep",
                                    json={"permissions": role["permissions"]})
    assert changed.status_code == 200, changed.text
    opportunity = await opportunity_of(world)
    quote = await world.create("quote", {"opportunity": opportunity["id"], "items": [
        {"description": "软件", "quantity": 1, "unit_price": 100, "discount": 5}]})
    assert quote["items"][0]["discount"] == 5
    [item] = (await world.get("quote", quote["id"], by="zhang"))["items"]
    assert "discount" not in item and Decimal(str(item["amount"])) == Decimal("95.00")
