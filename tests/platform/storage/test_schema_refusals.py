"""Changes the database cannot take safely are refused as a whole: a 422 that names the
field, the version stays, the tables stay."""

from __future__ import annotations

from typing import Any


def _fields(response: Any) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


async def _assert_nothing_applied(shop, columns: dict[str, dict[str, str]]) -> None:
    assert await shop.version() == 1
    for entity, before in columns.items():
        assert await shop.columns(entity) == before
    published = await shop.api.get("/api/apps/shop/metadata")
    assert published.json()["entities"] == shop.doc["entities"]


async def test_text_to_integer_is_refused_and_nothing_is_applied(shop) -> None:
    await shop.create("order", {"title": "Twelve"})
    before = {"order": await shop.columns("order"), "customer": await shop.columns("customer")}
    doc = shop.edited()
    doc["entities"]["order"]["fields"]["title"] = {"type": "integer"}
    # an acceptable change in the same publish is not applied either
    doc["entities"]["customer"]["fields"]["phone"] = {"type": "phone"}

    refused = await shop.publish(doc)

    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("schema-change-refused")
    assert _fields(refused) == ["entities.order.fields.title"]
    assert "text" in refused.json()["errors"][0]["message"]
    assert "integer" in refused.json()["errors"][0]["message"]
    await _assert_nothing_applied(shop, before)


async def test_narrowing_a_decimal_is_refused(shop) -> None:
    await shop.create("order", {"title": "Big", "amount": 12345})
    before = {"order": await shop.columns("order")}
    doc = shop.edited()
    doc["entities"]["order"]["fields"]["amount"] = {"type": "decimal", "digits": 10,
                                                    "scale": 2}

    refused = await shop.publish(doc)

    assert refused.status_code == 422, refused.text
    assert _fields(refused) == ["entities.order.fields.amount"]
    await _assert_nothing_applied(shop, before)


async def test_pointing_a_lookup_elsewhere_is_refused(shop) -> None:
    doc = shop.edited()
    doc["entities"]["order"]["fields"]["customer"]["ref"] = "order"

    refused = await shop.publish(doc)

    assert refused.status_code == 422, refused.text
    assert _fields(refused) == ["entities.order.fields.customer"]
    assert await shop.version() == 1


async def test_unique_over_duplicate_data_is_refused_naming_the_duplicates(shop) -> None:
    for name in ("Acme", "Acme", "Globex", "Initech"):
        await shop.create("customer", {"name": name})
    indexes_before = await shop.indexes("customer")
    doc = shop.edited()
    doc["entities"]["customer"]["fields"]["name"]["unique"] = True

    refused = await shop.publish(doc)

    assert refused.status_code == 422, refused.text
    assert _fields(refused) == ["entities.customer.fields.name"]
    assert "Acme" in refused.json()["errors"][0]["message"]
    assert "Globex" not in refused.json()["errors"][0]["message"]
    assert await shop.version() == 1
    assert await shop.indexes("customer") == indexes_before


async def test_unique_over_clean_data_is_applied_and_then_enforced(shop) -> None:
    for name in ("Acme", "Globex"):
        await shop.create("customer", {"name": name})
    doc = shop.edited()
    doc["entities"]["customer"]["fields"]["name"]["unique"] = True

    published = await shop.publish(doc)

    assert published.status_code == 200, published.text
    assert any(change.startswith("create index") for change in published.json()["changes"])
    duplicate = await shop.api.post("/api/apps/shop/records/customer", json={"name": "Acme"})
    assert duplicate.status_code == 422, duplicate.text
    assert _fields(duplicate) == ["name"]


async def test_text_to_select_is_refused_when_options_miss_existing_values(shop) -> None:
    for city in ("Berlin", "Paris", "Berlin"):
        await shop.create("customer", {"name": "Acme", "city": city})
    doc = shop.edited()
    doc["entities"]["customer"]["fields"]["city"] = {
        "type": "select", "options": [{"value": "Berlin"}, {"value": "London"}]}

    refused = await shop.publish(doc)

    assert refused.status_code == 422, refused.text
    assert _fields(refused) == ["entities.customer.fields.city.options"]
    assert "Paris" in refused.json()["errors"][0]["message"]
    assert await shop.version() == 1


async def test_text_to_select_is_applied_when_options_cover_the_values(shop) -> None:
    acme = await shop.create("customer", {"name": "Acme", "city": "Berlin"})
    await shop.create("customer", {"name": "Nowhere"})
    doc = shop.edited()
    doc["entities"]["customer"]["fields"]["city"] = {
        "type": "select", "options": [{"value": "Berlin"}, {"value": "Paris"}]}

    published = await shop.publish(doc)

    assert published.status_code == 200, published.text
    assert (await shop.get("customer", acme["id"]))["city"] == "Berlin"
    wrong = await shop.api.post("/api/apps/shop/records/customer",
                                json={"name": "Initech", "city": "Rome"})
    assert wrong.status_code == 422, wrong.text
    assert _fields(wrong) == ["city"]


async def test_removing_an_option_in_use_is_refused(shop) -> None:
    doc = shop.edited()
    doc["entities"]["customer"]["fields"]["city"] = {
        "type": "select", "options": [{"value": "Berlin"}, {"value": "Paris"}]}
    assert (await shop.publish(doc)).status_code == 200
    await shop.create("customer", {"name": "Acme", "city": "Paris"})
    doc["entities"]["customer"]["fields"]["city"]["options"] = [{"value": "Berlin"}]

    refused = await shop.publish(doc)

    assert refused.status_code == 422, refused.text
    assert _fields(refused) == ["entities.customer.fields.city.options"]
    assert await shop.version() == 2

