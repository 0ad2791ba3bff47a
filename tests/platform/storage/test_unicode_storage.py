"""Chinese text survives every trip: record values, JSON columns, filters, labels."""

from __future__ import annotations

import json

from sqlalchemy import text

NAME = "华为技术有限公司 — 深圳·坂田 🚀"


async def test_chinese_values_round_trip_through_the_tables(shop) -> None:
    doc = shop.edited()
    doc["entities"]["customer"]["fields"]["tags"] = {
        "type": "multiselect", "options": [{"value": "重要", "label": "重要客户"},
                                           {"value": "新客", "label": "新客户"}]}
    assert (await shop.publish(doc)).status_code == 200

    created = await shop.create("customer", {"name": NAME, "city": "北京", "tags": ["重要"]})

    stored = await shop.get("customer", created["id"])
    assert (stored["name"], stored["city"], stored["tags"]) == (NAME, "北京", ["重要"])
    assert (await shop.column_values("customer", "name")) == {created["id"]: NAME}
    async with shop.services.database.read() as conn:
        raw_tags = await conn.scalar(text(
            f"SELECT CAST(tags AS TEXT) FROM {shop.qualified('customer')}"))
    assert json.loads(raw_tags) == ["重要"]
    assert "重要" in raw_tags  # stored readable, not as \\u escapes


async def test_filtering_and_sorting_on_chinese_text(shop) -> None:
    for city in ("上海", "北京", "深圳", "北京"):
        await shop.create("customer", {"name": f"客户{city}", "city": city})
    condition = json.dumps({"==": [{"var": "city"}, "北京"]}, ensure_ascii=False)

    found = await shop.api.get("/api/apps/shop/records/customer",
                               params={"filter": condition, "sort": "id"})

    assert found.status_code == 200, found.text
    assert [item["city"] for item in found.json()["items"]] == ["北京", "北京"]
    # keyset pages over a Chinese sort key (order is the database's collation) lose nothing
    first = (await shop.api.get("/api/apps/shop/records/customer",
                                params={"sort": "-name,id", "limit": 3})).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = (await shop.api.get("/api/apps/shop/records/customer",
                               params={"sort": "-name,id", "cursor": first["next_cursor"]})
            ).json()
    items = first["items"] + rest["items"]
    assert sorted(item["name"] for item in items) == sorted(
        ["客户上海", "客户北京", "客户深圳", "客户北京"])
    assert len({item["id"] for item in items}) == 4

async def test_chinese_labels_round_trip_through_metadata(shop) -> None:
    doc = shop.edited()
    doc["entities"]["customer"]["label"] = {"zh-CN": "客户（重点）", "en": "Key customer"}
    doc["entities"]["customer"]["fields"]["city"]["label"] = {"zh-CN": "所在城市"}
    assert (await shop.publish(doc)).status_code == 200

    published = (await shop.api.get("/api/apps/shop/metadata")).json()

    assert published["app"]["label"]["zh-CN"] == "商店"
    assert published["entities"]["customer"]["label"]["zh-CN"] == "客户（重点）"
    assert published["entities"]["customer"]["fields"]["city"]["label"] == {"zh-CN": "所在城市"}


async def test_problems_name_the_field_in_chinese(shop) -> None:
    doc = shop.edited()
    doc["entities"]["order"]["fields"]["title"] = {"type": "integer"}
    assert (await shop.api.put("/api/apps/shop/metadata/draft", json=doc)).status_code == 200

    refused = await shop.api.post("/api/apps/shop/metadata/publish", json={},
                                  headers={"Accept-Language": "zh-CN"})

    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "entities.order.fields.title"
    assert "类型" in refused.json()["errors"][0]["message"]
