"""Schema evolution on publish: what changes the tables, what keeps data, what is free."""

from __future__ import annotations

from decimal import Decimal

from fixture_kit import delete_read, if_match, patch_read
from sqlalchemy import event


async def test_new_app_gets_a_table_per_entity(shop) -> None:
    assert await shop.tables() == {shop.table("customer"), shop.table("order")}
    columns = await shop.columns("order")
    assert {"id", "version", "created_at", "updated_at", "title", "quantity", "amount",
            "customer"} <= set(columns)


async def test_adding_a_field_keeps_rows_and_never_rewrites_the_table(shop) -> None:
    first = await shop.create("customer", {"name": "Acme", "city": "Berlin"})
    second = await shop.create("customer", {"name": "Globex"})
    before = await shop.storage_id("customer")
    doc = shop.edited()
    doc["entities"]["customer"]["fields"]["phone"] = {"type": "phone", "label": "Phone"}
    doc["entities"]["customer"]["fields"]["score"] = {"type": "integer", "label": "Score"}

    published = await shop.publish(doc)

    assert published.status_code == 200, published.text
    assert published.json()["version"] == 2
    assert {"add column customer.phone", "add column customer.score"} <= set(
        published.json()["changes"])
    assert {"phone", "score"} <= set(await shop.columns("customer"))
    for record, name in ((first, "Acme"), (second, "Globex")):
        loaded = await shop.get("customer", record["id"])
        assert loaded["name"] == name
        assert loaded["phone"] is None and loaded["score"] is None
    assert (await shop.get("customer", first["id"]))["city"] == "Berlin"
    assert await shop.storage_id("customer") == before


async def test_adding_a_unique_field_to_a_table_with_rows(shop) -> None:
    for name in ("Acme", "Globex"):
        await shop.create("customer", {"name": name})
    doc = shop.edited()
    doc["entities"]["customer"]["fields"]["code"] = {"type": "text", "unique": True}

    published = await shop.publish(doc)

    assert published.status_code == 200, published.text
    assert True in (await shop.indexes("customer")).values()
    await shop.create("customer", {"name": "Initech", "code": "C-1"})
    duplicate = await shop.api.post("/api/apps/shop/records/customer",
                                    json={"name": "Umbrella", "code": "C-1"})
    assert duplicate.status_code == 422, duplicate.text
    assert [e["field"] for e in duplicate.json()["errors"]] == ["code"]


async def test_adding_a_lookup_to_an_existing_entity_references_its_target(shop) -> None:
    acme = await shop.create("customer", {"name": "Acme"})
    before = await shop.storage_id("customer")
    doc = shop.edited()
    doc["entities"]["customer"]["fields"]["parent"] = {"type": "lookup", "ref": "customer"}

    published = await shop.publish(doc)

    assert published.status_code == 200, published.text
    assert await shop.storage_id("customer") == before
    child = await shop.create("customer", {"name": "Acme Asia", "parent": acme["id"]})
    assert (await shop.get("customer", child["id"]))["parent"] == acme["id"]
    dangling = await shop.api.post("/api/apps/shop/records/customer",
                                   json={"name": "Nobody's", "parent": 999999})
    assert dangling.status_code == 422, dangling.text
    assert [e["field"] for e in dangling.json()["errors"]] == ["parent"]


async def test_relabelling_a_field_changes_no_table(shop) -> None:
    before = await shop.storage_id("order")
    doc = shop.edited()
    doc["entities"]["order"]["fields"]["title"]["label"] = {"en": "Subject", "zh-CN": "主题"}
    doc["entities"]["order"]["label"] = {"en": "Purchase order", "zh-CN": "采购订单"}

    published = await shop.publish(doc)

    assert published.status_code == 200, published.text
    assert published.json()["changes"] == []
    assert published.json()["version"] == 2
    assert await shop.storage_id("order") == before


async def test_removing_a_field_hides_it_and_keeps_its_data(shop) -> None:
    acme = await shop.create("customer", {"name": "Acme", "city": "Berlin"})
    doc = shop.edited()
    del doc["entities"]["customer"]["fields"]["city"]

    published = await shop.publish(doc)

    assert published.status_code == 200, published.text
    assert "column customer.city kept (field removed)" in published.json()["kept"]
    assert "city" in await shop.columns("customer")
    assert await shop.column_values("customer", "city") == {acme["id"]: "Berlin"}
    assert "city" not in await shop.get("customer", acme["id"])
    listed = (await shop.api.get("/api/apps/shop/records/customer")).json()["items"]
    assert all("city" not in item for item in listed)
    newer = await shop.create("customer", {"name": "Globex"})
    assert "city" not in newer


async def test_re_adding_a_removed_field_brings_its_data_back(shop) -> None:
    acme = await shop.create("customer", {"name": "Acme", "city": "Berlin"})
    doc = shop.edited()
    del doc["entities"]["customer"]["fields"]["city"]
    assert (await shop.publish(doc)).status_code == 200

    doc["entities"]["customer"]["fields"]["city"] = {"type": "text", "label": "Town"}
    published = await shop.publish(doc)

    assert published.status_code == 200, published.text
    assert published.json()["changes"] == []
    assert (await shop.get("customer", acme["id"]))["city"] == "Berlin"


async def test_removing_a_lookup_keeps_its_values_and_frees_the_referenced_rows(
        shop) -> None:
    acme = await shop.create("customer", {"name": "Acme"})
    order = await shop.create("order", {"title": "First", "customer": acme["id"]})
    doc = shop.edited()
    del doc["entities"]["order"]["fields"]["customer"]

    published = await shop.publish(doc)

    assert published.status_code == 200, published.text
    assert "drop reference order.customer" in published.json()["changes"]
    assert "customer" not in await shop.foreign_keys("order")
    assert await shop.column_values("order", "customer") == {order["id"]: acme["id"]}
    # nothing in the app points at the customer any more, so it may go
    deleted = await delete_read(shop.api, f"/api/apps/shop/records/customer/{acme['id']}")
    assert deleted.status_code == 200, deleted.text


async def test_removing_an_entity_keeps_its_table_and_rows(shop) -> None:
    order = await shop.create("order", {"title": "First order"})
    doc = shop.edited()
    del doc["entities"]["order"]

    published = await shop.publish(doc)

    assert published.status_code == 200, published.text
    assert any("kept (entity removed)" in item for item in published.json()["kept"])
    assert shop.table("order") in await shop.tables()
    assert await shop.column_values("order", "title") == {order["id"]: "First order"}
    gone = await shop.api.get("/api/apps/shop/records/order")
    assert gone.status_code == 404, gone.text


async def test_widening_integer_to_decimal_keeps_the_values(shop) -> None:
    small = await shop.create("order", {"title": "Small", "quantity": 3})
    # an integer field holds up to 18 digits; the decimal keeps room for all of them
    large = await shop.create("order", {"title": "Large", "quantity": 123_456_789_012_345})
    doc = shop.edited()
    doc["entities"]["order"]["fields"]["quantity"] = {"type": "decimal", "label": "Quantity",
                                                      "digits": 22, "scale": 4}

    published = await shop.publish(doc)

    assert published.status_code == 200, published.text
    assert (await shop.get("order", small["id"]))["quantity"] == 3
    assert (await shop.get("order", large["id"]))["quantity"] == 123_456_789_012_345
    half = await shop.api.patch(f"/api/apps/shop/records/order/{small['id']}",
                                content=b'{"quantity": 2.5}',
                                headers={"Content-Type": "application/json",
                                         **if_match(small)})
    assert half.status_code == 200, half.text
    assert (await shop.get("order", small["id"]))["quantity"] == Decimal("2.5")
    if shop.postgres:
        assert (await shop.columns("order"))["quantity"].startswith("NUMERIC")


async def test_adding_an_entity_creates_its_table(shop) -> None:
    doc = shop.edited()
    doc["entities"]["invoice"] = {
        "label": {"en": "Invoice", "zh-CN": "发票"},
        "fields": {"number": {"type": "text", "unique": True},
                   "order": {"type": "lookup", "ref": "order"}}}

    published = await shop.publish(doc)

    assert published.status_code == 200, published.text
    assert f"create table {shop.table('invoice')}" in published.json()["changes"]
    order = await shop.create("order", {"title": "Billed"})
    invoice = await shop.create("invoice", {"number": "INV-1", "order": order["id"]})
    assert (await shop.get("invoice", invoice["id"]))["order"] == order["id"]


async def test_number_to_text_keeps_the_values_and_then_stores_text_as_written(shop) -> None:
    order = await shop.create("order", {"title": "Parts", "quantity": 5})
    before = await shop.storage_id("order")
    doc = shop.edited()
    doc["entities"]["order"]["fields"]["quantity"] = {"type": "text", "label": "Quantity"}

    published = await shop.publish(doc)

    assert published.status_code == 200, published.text
    assert "change type order.quantity integer -> text" in published.json()["changes"]
    assert await shop.storage_id("order") != before  # the column really changed
    assert (await shop.get("order", order["id"]))["quantity"] == "5"
    # a text column keeps what was written: no number conversion of "007" or "1e3"
    for written in ("007", "1e3", "12.50"):
        changed = await patch_read(shop.api, f"/api/apps/shop/records/order/{order['id']}",
                                   {"quantity": written})
        assert changed.status_code == 200, changed.text
        assert (await shop.get("order", order["id"]))["quantity"] == written


def _every_column_type() -> dict:
    return {
        "label": "Everything",
        "fields": {
            "text": {"type": "text"}, "textarea": {"type": "textarea"},
            "rich_text": {"type": "rich_text"}, "integer": {"type": "integer"},
            "decimal": {"type": "decimal"}, "currency": {"type": "currency"},
            "percent": {"type": "percent"}, "boolean": {"type": "boolean"},
            "date": {"type": "date"}, "datetime": {"type": "datetime"},
            "select": {"type": "select", "options": [{"value": "a"}]},
            "multiselect": {"type": "multiselect", "options": [{"value": "a"}]},
            "email": {"type": "email", "unique": True}, "phone": {"type": "phone"},
            "url": {"type": "url"}, "user": {"type": "user"},
            "department": {"type": "department"},
            "customer": {"type": "lookup", "ref": "customer", "index": True},
            "file": {"type": "file"}, "image": {"type": "image"},
            "signature": {"type": "signature"}, "address": {"type": "address"},
            "location": {"type": "location"}, "serial": {"type": "serial",
                                                         "format": "E-{seq:4}"},
            "rating": {"type": "rating"}, "json": {"type": "json"},
        },
        "indexes": [{"fields": ["text", "date"]}],
    }


async def test_republishing_every_column_type_changes_nothing(shop) -> None:
    doc = shop.edited()
    doc["entities"]["everything"] = _every_column_type()
    created = await shop.publish(doc)
    assert created.status_code == 200, created.text
    before = await shop.storage_id("everything")

    doc["entities"]["everything"]["label"] = "All of it"
    again = await shop.publish(doc)

    assert again.status_code == 200, again.text
    assert again.json()["changes"] == []
    assert await shop.storage_id("everything") == before


async def test_type_change_on_a_referenced_table_keeps_rows_references_and_indexes(
        shop) -> None:
    doc = shop.edited()
    fields = doc["entities"]["customer"]["fields"]
    fields["code"] = {"type": "integer", "unique": True}
    fields["parent"] = {"type": "lookup", "ref": "customer"}
    assert (await shop.publish(doc)).status_code == 200
    acme = await shop.create("customer", {"name": "Acme", "code": 7, "city": "Berlin"})
    branch = await shop.create("customer", {"name": "Acme Asia", "parent": acme["id"]})
    order = await shop.create("order", {"title": "First", "customer": acme["id"]})
    del fields["city"]  # a hidden column must survive the rebuild too
    assert (await shop.publish(doc)).status_code == 200
    indexes = await shop.indexes("customer")
    references = await shop.foreign_keys("order")
    fields["code"] = {"type": "text", "unique": True}

    published = await shop.publish(doc)

    assert published.status_code == 200, published.text
    assert (await shop.get("customer", acme["id"]))["code"] == "7"
    assert (await shop.get("customer", branch["id"]))["parent"] == acme["id"]
    assert (await shop.get("order", order["id"]))["customer"] == acme["id"]
    assert (await shop.column_values("customer", "city"))[acme["id"]] == "Berlin"
    assert await shop.indexes("customer") == indexes
    assert await shop.foreign_keys("order") == references
    in_use = await delete_read(shop.api, f"/api/apps/shop/records/customer/{acme['id']}")
    assert in_use.status_code == 409, in_use.text
    later = await shop.create("customer", {"name": "Globex"})
    assert later["id"] > branch["id"]


async def test_publish_reads_the_structure_of_its_own_tables_only(shop) -> None:
    other = await shop.api.post("/api/apps", json={"slug": "other", "metadata": shop.doc})
    assert other.status_code == 201, other.text
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(f"{statement} {parameters}")

    engine = shop.services.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        doc = shop.edited()
        doc["entities"]["customer"]["fields"]["phone"] = {"type": "phone"}
        published = await shop.publish(doc)
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert published.status_code == 200, published.text
    assert statements
    # neither another app's tables nor the platform's own are reflected and compared
    assert not [s for s in statements if "other__" in s or "record_audit" in s]
