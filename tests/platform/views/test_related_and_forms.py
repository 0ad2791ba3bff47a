"""The customer's 360° view in one call (related lists from the customer form, or every
lookup by default), forms as metadata for clients, and bad parameters as problem+json."""

from __future__ import annotations

from typing import Any

from crm_world import APP, RECORDS, World, sop_ready

PROBLEM = "application/problem+json"


async def _customer_world(world: World) -> dict[str, Any]:
    customer = await world.create("customer", {"name": "全景客户", "tag": "prospect",
                                               "owner": world.id("zhang")})
    other = await world.create("customer", {"name": "别的客户", "tag": "prospect"})
    cid = customer["id"]
    contact = await world.create("contact", {"name": "王经理", "customer": cid})
    await world.create("contact", {"name": "别人", "customer": other["id"]})
    await world.create("opportunity", {"name": "大单", "customer": cid, "stage": "demo",
                                       "amount": 5000, "owner": world.id("zhang"),
                                       **sop_ready(contact["id"])})
    contract = await world.create("contract", {"customer": cid, "amount": 5000,
                                               "status": "signed", "title": "年度合同",
                                               "owner": world.id("zhang")})
    await world.create("payment", {"contract": contract["id"], "amount": 1000,
                                   "paid_on": "2026-11-01"})
    await world.create("payment", {"contract": contract["id"], "amount": 1500,
                                   "paid_on": "2026-11-02"})
    await world.create("ticket", {"subject": "无法登录", "customer": cid, "channel": "phone",
                                  "type": "fault", "priority": "p2", "status": "new"})
    await world.create("follow_up", {"customer": cid, "kind": "call", "summary": "电话沟通",
                                     "happened_at": "2026-11-01T10:00:00+08:00"})
    return customer


def by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in body["related"]}


async def test_the_360_view_shows_every_related_list_of_the_form_in_one_call(
        world: World) -> None:
    customer = await _customer_world(world)
    response = await world.admin.get(f"{RECORDS}/customer/{customer['id']}/related",
                                     params={"form": "customer"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["record"]["id"] == customer["id"] and body["record"]["name"] == "全景客户"
    lists = by_name(body)
    assert list(lists) == ["contact", "opportunity", "contract", "payment", "order", "ticket",
                           "follow_up", "visit"]
    assert lists["contact"]["count"] == 1
    assert [c["name"] for c in lists["contact"]["items"]] == ["王经理"]
    assert lists["opportunity"]["count"] == 1 and lists["contract"]["count"] == 1
    # payments reach the customer through their contract
    payments = lists["payment"]
    assert payments["via"] == "contract.customer" and payments["count"] == 2
    assert [p["paid_on"] for p in payments["items"]] == ["2026-11-02", "2026-11-01"]
    assert [c["name"] for c in payments["columns"]] == ["number", "contract", "amount",
                                                        "paid_on"]
    assert payments["label"] == "Payments"
    assert lists["ticket"]["count"] == 1 and lists["follow_up"]["count"] == 1
    assert lists["order"]["count"] == 0 and lists["order"]["items"] == []
    more = await world.admin.get(payments["more"])
    assert more.status_code == 200, more.text
    assert len(more.json()["items"]) == 2


async def test_the_360_view_leaves_out_what_the_reader_may_not_read(world: World) -> None:
    customer = await _customer_world(world)
    response = await world.as_("legal_chen").get(
        f"{RECORDS}/customer/{customer['id']}/related", params={"form": "customer"})
    assert response.status_code == 200, response.text
    # legal reads customers, contacts, opportunities and contracts — nothing else
    assert list(by_name(response.json())) == ["contact", "opportunity", "contract"]
    engineer = (await world.as_("engineer_wu").get(
        f"{RECORDS}/customer/{customer['id']}/related", params={"form": "customer"})).json()
    contract = by_name(engineer)["contract"]
    assert "amount" not in [c["name"] for c in contract["columns"]]
    assert all("amount" not in item for item in contract["items"])
    # a customer outside a rep's reach does not exist for them
    stranger = await world.create("customer", {"name": "李的客户", "tag": "prospect",
                                               "owner": world.id("li")})
    assert engineer["may"] == {"update": False, "delete": False}
    assert (await world.as_("zhang").get(f"{RECORDS}/customer/{customer['id']}/related")
            ).json()["may"]["update"] is True  # his own customer
    missing = await world.as_("zhang").get(f"{RECORDS}/customer/{stranger['id']}/related")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith(PROBLEM)


async def test_without_a_form_every_lookup_to_the_entity_is_a_related_list(
        world: World) -> None:
    customer = await _customer_world(world)
    body = (await world.admin.get(f"{RECORDS}/customer/{customer['id']}/related",
                                  params={"limit": 2})).json()
    lists = by_name(body)
    assert {"contact", "opportunity", "contract", "payment", "order", "ticket", "visit",
            "lead"} <= set(lists)
    # follow-ups point at a customer once; leads once (converted_customer)
    assert lists["contact"]["via"] == "customer" and lists["lead"]["via"] == "converted_customer"
    assert lists["payment"]["via"] == "customer"
    assert all(len(item["items"]) <= 2 for item in body["related"])
    assert "name" in [c["name"] for c in lists["contact"]["columns"]]


async def test_a_form_is_served_localized_with_the_readers_permissions(world: World) -> None:
    response = await world.admin.get(f"/api/apps/{APP}/forms/quote")
    assert response.status_code == 200, response.text
    form = response.json()
    assert form["label"] == "Quote" and form["entity"] == "quote"
    basics, items = form["sections"][0], form["sections"][1]
    valid_until = next(f for f in basics["fields"] if f["name"] == "valid_until")
    assert valid_until["required"] == {"==": [{"var": "status"}, "sent"]}
    assert valid_until["label"] == "Valid until" or valid_until["label"]
    total = next(f for f in basics["fields"] if f["name"] == "total")
    assert total["readonly"] is True  # a roll-up is computed
    status = next(f for f in basics["fields"] if f["name"] == "status")
    assert status["required"] is True and [o["value"] for o in status["options"]] == [
        "draft", "sent", "accepted", "rejected"]
    [lines] = items["subtables"]
    assert lines["entity"] == "quote_item"
    assert [c["name"] for c in lines["columns"]][:3] == ["product", "description", "quantity"]
    customer = (await world.as_("engineer_wu").get(f"/api/apps/{APP}/forms/customer")).json()
    value = next(tab for tab in customer["tabs"] if tab["name"] == "value")
    rfm = [f["name"] for f in value["sections"][0]["fields"]]
    assert "rfm_tier" in rfm and "rfm_r" not in rfm  # hidden from service engineers
    basics = customer["tabs"][0]["sections"][0]["fields"]
    assert all(f["readonly"] is True for f in basics)  # engineers may not change customers
    zh = await world.admin.get(f"/api/apps/{APP}/forms/quote",
                               headers={"Accept-Language": "zh-CN"})
    assert zh.json()["label"] == "报价"
    listed = (await world.as_("legal_chen").get(f"/api/apps/{APP}/forms")).json()["items"]
    assert "lead" not in {f["name"] for f in listed} and "quote" in {f["name"] for f in listed}
    assert (await world.as_("legal_chen").get(f"/api/apps/{APP}/forms/lead")).status_code == 403


async def test_bad_parameters_are_problems_with_readable_messages(world: World) -> None:
    customer = await _customer_world(world)
    views = f"/api/apps/{APP}/views"
    cases = [
        (f"{views}/my_leads", {"limit": 0}, 400),
        (f"{views}/my_leads", {"limit": 201}, 400),
        (f"{views}/my_leads", {"cursor": "not-a-cursor"}, 400),
        (f"{views}/my_leads", {"filter": "{not json"}, 400),
        (f"{views}/my_leads", {"filter": '{"==": [{"var": "nonsense"}, 1]}'}, 400),
        (f"{views}/my_leads", {"group": "won"}, 400),
        (f"{views}/opportunity_kanban", {"group": "nowhere"}, 400),
        (f"{views}/no_such_view", {}, 404),
        (f"/api/apps/{APP}/forms/no_such_form", {}, 404),
        (f"{RECORDS}/customer/{customer['id']}/related", {"form": "lead"}, 400),
        (f"{RECORDS}/customer/{customer['id']}/related", {"form": "nope"}, 404),
        (f"{RECORDS}/customer/{customer['id']}/related", {"limit": 500}, 400),
        (f"{RECORDS}/customer/999999/related", {}, 404),
        (f"{RECORDS}/nothing/1/related", {}, 404),
    ]
    for path, params, status in cases:
        response = await world.admin.get(path, params=params)
        assert response.status_code == status, (path, params, response.text)
        assert response.headers["content-type"].startswith(PROBLEM), (path, params)
        assert response.json()["detail"], (path, params)
    kanban = await world.admin.get(f"{views}/opportunity_kanban", params={"group": "nowhere"})
    assert "initial_contact" in kanban.json()["detail"]


async def test_a_forms_conditions_decide_visible_required_and_missing_fields(
        world: World) -> None:
    check = f"/api/apps/{APP}/forms/opportunity/check"
    lost = await world.as_("zhang").post(check, json={"name": "丢单", "stage": "lost"})
    assert lost.status_code == 200, lost.text
    body = lost.json()
    assert body["fields"]["lost_reason"] == {"visible": True, "required": True,
                                             "readonly": False}
    assert body["fields"]["weighted_amount"]["readonly"] is True
    assert body["valid"] is False
    assert {e["field"] for e in body["errors"]} == {"lost_reason", "customer"}
    assert next(e for e in body["errors"] if e["field"] == "lost_reason")["message"] == \
        "Lost reason is required"
    open_deal = (await world.as_("zhang").post(check, json={"stage": "demo"})).json()
    assert open_deal["fields"]["lost_reason"] == {"visible": False, "required": False,
                                                  "readonly": False}
    assert {e["field"] for e in open_deal["errors"]} == {"name", "customer"}
    customer = await world.create("customer", {"name": "表单客户", "tag": "prospect"})
    complete = (await world.as_("zhang").post(check, json={
        "name": "丢单", "stage": "lost", "lost_reason": "price",
        "customer": customer["id"]})).json()
    assert complete["valid"] is True and complete["errors"] == []
    wrong = (await world.as_("zhang").post(check, json={"stage": "nowhere"})).json()
    assert "stage" in {e["field"] for e in wrong["errors"]}
    # a section hidden until the ticket is handled: its required field waits until then
    ticket = f"/api/apps/{APP}/forms/ticket/check"
    new = (await world.admin.post(ticket, json={"status": "new"})).json()
    assert new["fields"]["solution"]["visible"] is False
    assert "solution" not in {e["field"] for e in new["errors"]}
    resolved = (await world.admin.post(ticket, json={"status": "resolved"})).json()
    assert resolved["fields"]["solution"] == {"visible": True, "required": True,
                                              "readonly": False}
    assert "solution" in {e["field"] for e in resolved["errors"]}
    refused = await world.admin.post(ticket, json=["not", "an", "object"])
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith(PROBLEM)


async def test_a_sub_table_shows_only_the_child_fields_the_reader_may_see(
        world: World) -> None:
    role = (await world.admin.get(f"/api/apps/{APP}/roles/sales_rep")).json()
    permissions = role["permissions"]
    permissions["quote_item"]["fields"] = {"discount": "hidden"}
    changed = await world.admin.put(f"/api/apps/{APP}/roles/sales_rep",
                                    json={"permissions": permissions})
    assert changed.status_code == 200, changed.text
    form = (await world.as_("zhang").get(f"/api/apps/{APP}/forms/quote")).json()
    [lines] = form["sections"][1]["subtables"]
    assert [c["name"] for c in lines["columns"]] == [
        "product", "description", "quantity", "unit_price", "amount"]
    full = (await world.admin.get(f"/api/apps/{APP}/forms/quote")).json()
    assert "discount" in [c["name"] for c in full["sections"][1]["subtables"][0]["columns"]]


async def test_a_form_carries_what_the_browser_needs_to_fill_it_in(world: World) -> None:
    form = (await world.as_("zhang").get(f"/api/apps/{APP}/forms/quote")).json()
    [lines] = form["sections"][1]["subtables"]
    assert lines["formulas"] == [{"field": "amount", "tree": {"round": [{"*": [
        {"var": "quantity"}, {"var": "unit_price"},
        {"-": [1, {"/": [{"blank_value": [{"var": "discount"}, 0]}, 100]}]}]}, 2]}}]
    quantity = next(c for c in lines["columns"] if c["name"] == "quantity")
    assert quantity["default"] == 1 and quantity["scale"] == 2 and quantity["min"] == 0
    total = next(f for f in form["sections"][0]["fields"] if f["name"] == "total")
    assert total["rollup"] == {"subtable": "items", "function": "sum", "field": "amount",
                               "filter": None}
    status = next(f for f in form["sections"][0]["fields"] if f["name"] == "status")
    assert status["default"] == "draft"
    assert form["timezone"] == "Asia/Shanghai"
    assert form["files"]["max_bytes"] > 0 and ".pdf" in form["files"]["accept"]
    opportunity = (await world.as_("zhang").get(f"/api/apps/{APP}/forms/opportunity")).json()
    assert "weighted_amount" in {f["field"] for f in opportunity["formulas"]}


async def test_a_form_check_computes_the_formulas_of_the_record_and_its_rows(
        world: World) -> None:
    deal = (await world.as_("zhang").post(f"/api/apps/{APP}/forms/opportunity/check", json={
        "name": "公式", "stage": "demo", "amount": "12345.67", "probability": 30})).json()
    assert deal["values"]["weighted_amount"] == 3703.70
    quote = (await world.as_("zhang").post(f"/api/apps/{APP}/forms/quote/check", json={
        "status": "draft", "items": [
            {"description": "A", "quantity": 3, "unit_price": "19.99", "discount": 10},
            {"description": "B", "quantity": 1, "unit_price": 100}]})).json()
    assert [row["amount"] for row in quote["rows"]["items"]] == [53.97, 100]


async def test_an_entity_without_a_form_is_filled_in_with_a_plain_one(world: World) -> None:
    form = await world.as_("zhang").get(f"/api/apps/{APP}/forms/product")
    assert form.status_code == 200, form.text
    [section] = form.json()["sections"]
    assert section["columns"] == 2 and "name" in [f["name"] for f in section["fields"]]
    check = await world.as_("zhang").post(f"/api/apps/{APP}/forms/product/check", json={})
    assert check.status_code == 200 and check.json()["valid"] is False
    assert (await world.admin.get(f"/api/apps/{APP}/forms/nothing_here")).status_code == 404
