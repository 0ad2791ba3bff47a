"""A record and its line items are one save: the rows of a subtable field go inline in the
body of a create, a change and a bulk create, through the pipeline in one transaction —
added, changed by id, removed when left out — and the record's roll-ups, formulas, rules
and checks see the final rows. A single record reads with its rows inline."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fixture_kit import patch_read, problem_of
from sqlalchemy import select

from loom.platform.security.tokens import issue_token
from loom.platform.services import Services
from loom.platform.storage.system_tables import record_audit

SHOP = "/api/apps/shop/records"
EN = {"Accept-Language": "en"}


def label(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


def shop_document() -> dict[str, Any]:
    money = {"type": "currency", "returns": "currency"}
    return {
        "app": {"label": label("商店", "Shop"), "timezone": "Asia/Shanghai"},
        "entities": {
            "order": {"label": label("订单", "Order"), "fields": {
                "title": {"type": "text", "label": label("标题", "Title"), "required": True},
                "code": {"type": "text", "label": label("编号", "Code"), "unique": True},
                "discount": {"type": "percent", "label": label("折扣", "Discount")},
                "lines": {"type": "subtable", "entity": "line", "link_field": "order",
                          "label": label("订单行", "Lines")},
                "total": {"type": "rollup", "returns": "currency",
                          "label": label("合计", "Total"), "rollup": {
                              "entity": "line", "link_field": "order", "function": "sum",
                              "field": "amount"}},
                "line_count": {"type": "rollup", "returns": "integer", "rollup": {
                    "entity": "line", "link_field": "order", "function": "count"}},
                "subtotal": {**money, "type": "formula", "formula": "SUM(lines.amount)"},
                "size": {"type": "select", "options": [{"value": "small"}, {"value": "big"}]},
                "approver": {"type": "text", "label": label("审批人", "Approver"),
                             "required_if": {">": [{"var": "total"}, 10000]}},
                "bulk": {"type": "boolean"}}},
            "line": {"label": label("订单行", "Order line"), "fields": {
                "order": {"type": "lookup", "ref": "order", "required": True,
                          "label": label("订单", "Order")},
                "product": {"type": "text", "label": label("产品", "Product")},
                "quantity": {"type": "integer", "required": True, "min": 1,
                             "label": label("数量", "Quantity")},
                "unit_price": {"type": "currency", "min": 0,
                               "label": label("单价", "Unit price")},
                "cost": {"type": "currency", "label": label("成本", "Cost")},
                # reads the order through its lookup, as the order is being saved
                "amount": {**money, "type": "formula", "formula":
                           "ROUND(quantity * unit_price * "
                           "(1 - BLANKVALUE(order.discount, 0) / 100), 2)"}}},
        },
        "rules": {
            # the order's own rule, before its save: sees the total of the final rows
            "order_size": {"entity": "order", "order": 10,
                           "trigger": {"on": "field_change", "fields": ["total"]},
                           "actions": [{"type": "set_field", "field": "size", "value": {
                               "if": [{">": [{"var": "total"}, 1000]}, "big", "small"]}}]},
            # a line's rule before its save
            "line_price": {"entity": "line", "order": 10, "trigger": {"on": "create"},
                           "condition": {"is_blank": {"var": "unit_price"}},
                           "actions": [{"type": "set_field", "field": "unit_price",
                                        "value": 10}]},
            # a line's rule after its save, changing the order in the middle of its save
            "line_bulk": {"entity": "line", "order": 20, "trigger": {"on": "create"},
                          "condition": {">=": [{"var": "quantity"}, 100]},
                          "actions": [{"type": "update_related", "lookup": "order",
                                       "values": {"bulk": True}}]},
        },
        "roles": {
            # may change orders and their lines, but not see what a line cost
            "clerk": {"permissions": {
                "order": {"create": True, "read": "all", "update": "all"},
                "line": {"create": True, "read": "all", "update": "all", "delete": "all",
                         "fields": {"cost": "hidden"}}}},
            # may change an order, not its lines
            "editor": {"permissions": {"order": {"read": "all", "update": "all"}}},
        },
    }


@pytest.fixture
async def shop(api: httpx.AsyncClient) -> httpx.AsyncClient:
    response = await api.post("/api/apps", json={"slug": "shop", "metadata": shop_document()})
    assert response.status_code == 201, response.text
    return api


def exact(response: httpx.Response) -> dict[str, Any]:
    return json.loads(response.text, parse_float=Decimal)


async def member(api: httpx.AsyncClient, services: Services, role: str) -> httpx.AsyncClient:
    """A new user in ``role`` of the shop, with a client of their own."""
    email = f"{role}@example.com"
    response = await api.post("/api/users", json={"email": email, "name": role})
    assert response.status_code == 201, response.text
    put = await api.put(f"/api/apps/shop/roles/{role}", json={"members": [email]})
    assert put.status_code == 200, put.text
    async with services.database.write() as conn:
        token = await issue_token(conn, response.json()["id"], services.clock)
    return httpx.AsyncClient(transport=api._transport, base_url=str(api.base_url),
                             headers={"Authorization": f"Bearer {token}", **EN})


async def history(services: Services, entity: str, record_id: int) -> list[dict[str, Any]]:
    async with services.database.read() as conn:
        rows = await conn.execute(select(record_audit).where(
            record_audit.c.entity == entity, record_audit.c.record_id == record_id)
            .order_by(record_audit.c.id))
        return [dict(row) for row in rows.mappings()]


async def count(api: httpx.AsyncClient, entity: str) -> int:
    response = await api.get(f"{SHOP}/{entity}", params={"count": "true"})
    return int(response.json()["count"])


async def test_an_order_and_its_lines_are_created_in_one_save(
        shop: httpx.AsyncClient, services: Services) -> None:
    response = await shop.post(f"{SHOP}/order", json={
        "title": "服务器", "discount": 10, "lines": [
            {"product": "A", "quantity": 2, "unit_price": "100"},
            {"product": "B", "quantity": 1},  # the line's own rule prices it at 10
            {"product": "C", "quantity": 3, "unit_price": "0.10"}]})
    assert response.status_code == 201, response.text
    order = exact(response)
    lines = order["lines"]
    # the lines read the order's discount while it was being saved
    assert [line["amount"] for line in lines] == [Decimal("180.00"), Decimal("9.00"),
                                                  Decimal("0.27")]
    assert [line["unit_price"] for line in lines] == [100, 10, Decimal("0.10")]
    assert {line["order"] for line in lines} == {order["id"]}
    assert [line["version"] for line in lines] == [1, 1, 1]
    # roll-ups, formulas over the rows and the order's own rule: right in the same save
    assert (order["total"], order["subtotal"], order["line_count"]) == (
        Decimal("189.27"), Decimal("189.27"), 3)
    assert (order["version"], order["size"]) == (1, "small")
    # one audit entry for the order (create, naming its rows), one per line
    [entry] = await history(services, "order", order["id"])
    assert (entry["action"], entry["version"]) == ("create", 1)
    assert entry["changes"]["lines"] == [[], [line["id"] for line in lines]]
    assert Decimal(str(entry["changes"]["total"][1])) == Decimal("189.27")
    for line in lines:
        assert [e["action"] for e in await history(services, "line", line["id"])] == [
            "create"]
    read = exact(await shop.get(f"{SHOP}/order/{order['id']}"))
    assert read == order
    # lists leave the rows out
    listed = (await shop.get(f"{SHOP}/order")).json()["items"]
    assert "lines" not in listed[0]


async def test_a_change_adds_changes_and_removes_lines(shop: httpx.AsyncClient,
                                                      services: Services) -> None:
    order = exact(await shop.post(f"{SHOP}/order", json={"title": "t", "lines": [
        {"product": "A", "quantity": 1, "unit_price": "100"},
        {"product": "B", "quantity": 1, "unit_price": "200"},
        {"product": "C", "quantity": 1, "unit_price": "300"}]}))
    a, b, c = order["lines"]
    response = await shop.patch(f"{SHOP}/order/{order['id']}", headers={
        "If-Match": str(order["version"])}, json={"lines": [
            {"id": a["id"], "quantity": 5},  # changed: only the field given
            {"id": b["id"]},  # kept as it is
            {"product": "D", "quantity": 1, "unit_price": "1000"}]})  # added; C removed
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["total"] == 1700 and changed["size"] == "big"
    assert changed["version"] == 2
    kept, same, added = changed["lines"]
    assert (kept["id"], kept["quantity"], kept["unit_price"], kept["version"]) == (
        a["id"], 5, 100, 2)
    assert (same["id"], same["version"]) == (b["id"], 1)
    assert (added["product"], added["order"], added["version"]) == ("D", order["id"], 1)
    stored = (await shop.get(f"{SHOP}/line", params={"sort": "id"})).json()["items"]
    assert [line["product"] for line in stored] == ["A", "B", "D"]
    # each line's change has its own audit entry; the order's names its rows before → after
    assert [e["action"] for e in await history(services, "line", a["id"])] == [
        "create", "update"]
    assert [e["action"] for e in await history(services, "line", c["id"])][:2] == [
        "create", "delete"]
    assert [e["action"] for e in await history(services, "line", b["id"])] == ["create"]
    entry = (await history(services, "order", order["id"]))[-1]
    assert (entry["action"], entry["version"]) == ("update", 2)
    assert entry["changes"]["lines"] == [[a["id"], b["id"], c["id"]],
                                         [a["id"], b["id"], added["id"]]]
    assert [Decimal(str(v)) for v in entry["changes"]["total"]] == [600, 1700]
    # a line changed alone still makes a new version of the order: its If-Match covers it
    again = await shop.patch(f"{SHOP}/order/{order['id']}", headers={"If-Match": "2"},
                             json={"lines": [{**kept, "product": "A2"}, same, added]})
    assert again.status_code == 200, again.text
    assert again.json()["version"] == 3 and again.json()["total"] == 1700
    # sent back as read: nothing changes, no new version
    read = (await shop.get(f"{SHOP}/order/{order['id']}")).json()
    same_again = await patch_read(shop, f"{SHOP}/order/{order['id']}", json=read)
    assert same_again.status_code == 200 and same_again.json() == read
    # without the field the rows are left alone; an empty list removes them all
    untouched = await patch_read(shop, f"{SHOP}/order/{order['id']}", json={"title": "u"})
    assert len(untouched.json()["lines"]) == 3
    emptied = exact(await patch_read(shop, f"{SHOP}/order/{order['id']}", json={"lines": []}))
    assert (emptied["lines"], emptied["total"], emptied["line_count"]) == ([], 0, 0)
    assert await count(shop, "line") == 0


async def test_rows_read_the_record_as_it_is_being_changed(shop: httpx.AsyncClient) -> None:
    order = (await shop.post(f"{SHOP}/order", json={"title": "t", "lines": [
        {"quantity": 1, "unit_price": "100"}]})).json()
    [line] = order["lines"]
    response = await patch_read(shop, f"{SHOP}/order/{order['id']}", json={
        "discount": 50, "lines": [{"id": line["id"]}]})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["lines"][0]["amount"], changed["total"], changed["discount"]) == (
        50, 50, 50)


async def test_every_problem_of_the_rows_at_once_and_nothing_written(
        shop: httpx.AsyncClient) -> None:
    refused = problem_of(await shop.post(f"{SHOP}/order", headers=EN, json={
        "code": "X-1", "lines": [
            {"product": "A", "quantity": 1, "unit_price": "5"},
            {"product": "B", "quantity": 1, "unit_price": "-5"},
            {"product": "C", "quantity": 0, "colour": "red"},
            "not a row"]}), 422)
    found = {(e["field"], e.get("code")) for e in refused["errors"]}
    assert found == {("title", "required"), ("lines[1].unit_price", "too_small"),
                     ("lines[2].quantity", "too_small"), ("lines[2].colour", "unknown_field"),
                     ("lines[3]", "type")}
    message = next(e["message"] for e in refused["errors"]
                   if e["field"] == "lines[1].unit_price")
    assert "Unit price" in message
    assert await count(shop, "order") == 0 and await count(shop, "line") == 0
    # in the reader's language
    chinese = problem_of(await shop.post(f"{SHOP}/order", headers={
        "Accept-Language": "zh-CN"}, json={"title": "t", "lines": [
            {"quantity": 1, "unit_price": "-5"}]}), 422)
    assert chinese["errors"][0]["field"] == "lines[0].unit_price"
    assert "单价" in chinese["errors"][0]["message"]
    # on a change too: the order and its first line stay as they were
    order = exact(await shop.post(f"{SHOP}/order", json={"title": "t", "lines": [
        {"quantity": 1, "unit_price": "5"}]}))
    [line] = order["lines"]
    refused = problem_of(await patch_read(shop, f"{SHOP}/order/{order['id']}", headers=EN, json={
        "title": "changed", "lines": [{"id": line["id"], "quantity": 9},
                                      {"quantity": 1, "unit_price": "-1"}]}), 422)
    assert [e["field"] for e in refused["errors"]] == ["lines[1].unit_price"]
    assert exact(await shop.get(f"{SHOP}/order/{order['id']}")) == order
    assert await count(shop, "line") == 1


async def test_a_row_must_be_a_row_of_this_record(shop: httpx.AsyncClient) -> None:
    first = (await shop.post(f"{SHOP}/order", json={"title": "a", "lines": [
        {"quantity": 1, "unit_price": "5"}]})).json()
    second = (await shop.post(f"{SHOP}/order", json={"title": "b", "lines": [
        {"quantity": 2, "unit_price": "5"}]})).json()
    mine, theirs = first["lines"][0], second["lines"][0]
    refused = problem_of(await patch_read(shop, f"{SHOP}/order/{first['id']}", headers=EN, json={
        "lines": [mine, {"id": theirs["id"], "quantity": 7}, {"id": "x"},
                  {"id": mine["id"], "quantity": 3}]}), 422)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [
        ("lines[1].id", "row_not_here"), ("lines[2].id", "row_not_here"),
        ("lines[3].id", "row_twice")]
    assert str(theirs["id"]) in refused["errors"][0]["message"]
    # the other order's line is untouched, and a row of a new record has no id yet
    assert (await shop.get(f"{SHOP}/line/{theirs['id']}")).json() == theirs
    refused = problem_of(await shop.post(f"{SHOP}/order", headers=EN, json={
        "title": "c", "lines": [{"id": mine["id"], "quantity": 1}]}), 422)
    assert [e["field"] for e in refused["errors"]] == ["lines[0].id"]
    # a row cannot be moved to another record through it
    refused = problem_of(await patch_read(shop, f"{SHOP}/order/{first['id']}", headers=EN, json={
        "lines": [{**mine, "order": second["id"]}]}), 422)
    assert [e["field"] for e in refused["errors"]] == ["lines[0].order"]
    # the rows are a list, of at most 500
    refused = problem_of(await patch_read(shop, f"{SHOP}/order/{first['id']}", headers=EN,
                                          json={"lines": {"quantity": 1}}), 422)
    assert [e["field"] for e in refused["errors"]] == ["lines"]
    refused = problem_of(await shop.post(f"{SHOP}/order", headers=EN, json={
        "title": "d", "lines": [{"quantity": 1}] * 501}), 422)
    assert "500" in refused["errors"][0]["message"]


async def test_a_stale_row_version_is_a_conflict(shop: httpx.AsyncClient) -> None:
    order = exact(await shop.post(f"{SHOP}/order", json={"title": "a", "lines": [
        {"quantity": 1, "unit_price": "5"}]}))
    [line] = order["lines"]
    moved = await patch_read(shop, f"{SHOP}/line/{line['id']}", json={"quantity": 2})
    assert moved.status_code == 200
    refused = problem_of(await patch_read(shop, f"{SHOP}/order/{order['id']}", json={
        "lines": [{"id": line["id"], "version": line["version"], "quantity": 3}]}), 409)
    assert refused["errors"][0]["field"] == "lines[0]"
    assert (await shop.get(f"{SHOP}/line/{line['id']}")).json()["quantity"] == 2
    # the order's own If-Match covers its rows
    refused = problem_of(await shop.patch(f"{SHOP}/order/{order['id']}", headers={
        "If-Match": "7"}, json={"lines": []}), 409)
    assert await count(shop, "line") == 1


async def test_a_rule_of_a_line_may_change_its_order_during_the_save(
        shop: httpx.AsyncClient, services: Services) -> None:
    response = await shop.post(f"{SHOP}/order", json={"title": "t", "lines": [
        {"quantity": 100, "unit_price": "1"}]})
    assert response.status_code == 201, response.text
    order = exact(response)
    assert (order["bulk"], order["total"], order["title"]) == (True, 100, "t")
    later = exact(await shop.post(f"{SHOP}/order", json={"title": "u"}))
    response = await shop.patch(f"{SHOP}/order/{later['id']}", headers={"If-Match": "1"},
                                json={"title": "v", "lines": [{"quantity": 200}]})
    assert response.status_code == 200, response.text
    changed = exact(response)
    assert (changed["bulk"], changed["title"], changed["total"]) == (True, "v", 2000)
    # the rule's own change of the order, then the order's save on top of it
    assert [(e["action"], e["version"]) for e in await history(
        services, "order", later["id"])] == [("create", 1), ("update", 2), ("update", 3)]
    assert changed["version"] == 3


async def test_the_order_is_checked_against_its_final_rows(shop: httpx.AsyncClient) -> None:
    # above 10,000 the order needs an approver
    refused = problem_of(await shop.post(f"{SHOP}/order", headers=EN, json={
        "title": "big", "lines": [{"quantity": 11, "unit_price": "1000"}]}), 422)
    assert [e["field"] for e in refused["errors"]] == ["approver"]
    order = exact(await shop.post(f"{SHOP}/order", json={"title": "big", "lines": [
        {"quantity": 9, "unit_price": "1000"}]}))
    [line] = order["lines"]
    refused = problem_of(await patch_read(shop, f"{SHOP}/order/{order['id']}", headers=EN, json={
        "lines": [{"id": line["id"], "quantity": 11}]}), 422)
    assert [e["field"] for e in refused["errors"]] == ["approver"]
    done = await patch_read(shop, f"{SHOP}/order/{order['id']}", json={
        "approver": "王芳", "lines": [{"id": line["id"], "quantity": 11}]})
    assert done.status_code == 200 and done.json()["total"] == 11000
    # a taken unique value of the order is refused by its own check, rows or not
    exact(await shop.post(f"{SHOP}/order", json={"title": "x", "code": "C-1"}))
    refused = problem_of(await shop.post(f"{SHOP}/order", headers=EN, json={
        "title": "y", "code": "C-1", "lines": [{"quantity": 1}]}), 422)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("code", "unique")]


async def test_orders_in_bulk_with_their_lines(shop: httpx.AsyncClient) -> None:
    response = await shop.post(f"{SHOP}/order/_bulk", json=[
        {"title": "a", "lines": [{"quantity": 1, "unit_price": "5"},
                                 {"quantity": 2, "unit_price": "5"}]},
        {"title": "b"},
        {"title": "c", "lines": [{"quantity": 3, "unit_price": "5"}]}])
    assert response.status_code == 201, response.text
    items = response.json()["items"]
    assert [item["total"] for item in items] == [15, 0, 15]
    assert [item["line_count"] for item in items] == [2, 0, 1]
    read = (await shop.get(f"{SHOP}/order/{items[2]['id']}")).json()
    assert [line["quantity"] for line in read["lines"]] == [3]
    refused = problem_of(await shop.post(f"{SHOP}/order/_bulk", headers=EN, json=[
        {"title": "d", "lines": [{"quantity": 1}]},
        {"title": "e", "lines": [{"quantity": 1}, {"quantity": -1}]}]), 422)
    assert [(e["field"], e["index"]) for e in refused["errors"]] == [("lines[1].quantity", 1)]
    assert await count(shop, "order") == 3 and await count(shop, "line") == 3


async def test_rows_take_the_child_entity_s_permissions(shop: httpx.AsyncClient,
                                                       services: Services) -> None:
    order = exact(await shop.post(f"{SHOP}/order", json={"title": "t", "lines": [
        {"quantity": 1, "unit_price": "5", "cost": "3"}]}))
    [line] = order["lines"]
    assert line["cost"] == 3
    clerk = await member(shop, services, "clerk")
    editor = await member(shop, services, "editor")
    try:
        # the clerk sees the lines without the field their role hides
        seen = (await clerk.get(f"{SHOP}/order/{order['id']}")).json()
        assert "cost" not in seen["lines"][0] and seen["lines"][0]["id"] == line["id"]
        changed = await patch_read(clerk, f"{SHOP}/order/{order['id']}", json={
            "lines": [*seen["lines"], {"quantity": 2, "unit_price": "5"}]})
        assert changed.status_code == 200, changed.text
        assert changed.json()["total"] == 15 and "cost" not in changed.json()["lines"][1]
        refused = problem_of(await patch_read(clerk, f"{SHOP}/order/{order['id']}", json={
            "lines": [{"quantity": 1, "cost": "1"}]}), 422)
        assert [e["field"] for e in refused["errors"]] == ["lines[0].cost"]
        # the editor may change the order but not its lines: they read it without them,
        # change it without them, and may not send them
        read = (await editor.get(f"{SHOP}/order/{order['id']}")).json()
        assert "lines" not in read
        assert (await patch_read(editor, f"{SHOP}/order/{order['id']}",
                                   json={"title": "v"})).status_code == 200
        refused = problem_of(await patch_read(editor, f"{SHOP}/order/{order['id']}", json={
            "lines": []}), 403)
        assert "Order line" in refused["detail"]
        assert await count(shop, "line") == 2
    finally:
        await clerk.aclose()
        await editor.aclose()
