"""A list view's filter and sort imply an index, created on publish: its equality-filtered
fields, its sort keys in their direction (blanks last), then id — and publishing again
leaves it alone."""

from __future__ import annotations

from sqlalchemy import inspect, text

from loom.metamodel.entity import EntitySpec
from loom.metamodel.views import ViewSpec
from loom.platform.storage.view_indexes import view_keys

ORDERS = {"entity": "order", "label": "Big orders", "columns": ["title", "amount"],
          "filter": {"and": [{"==": [{"var": "customer"}, 1]},
                             {"==": [{"var": "title"}, "x"]},
                             {">": [{"var": "amount"}, 100]}]},
          "sort": "-amount,title"}


def _keys(shop, **view) -> list[tuple[str, bool]]:
    spec = EntitySpec.model_validate(shop.doc["entities"]["order"])
    return view_keys(spec, ViewSpec.model_validate({**ORDERS, **view}))


def test_the_implied_keys_are_the_equalities_then_the_sort_then_id(shop) -> None:
    assert _keys(shop) == [("customer", False), ("title", False), ("amount", True),
                           ("id", False)]
    assert _keys(shop, filter=None, sort=None) == []  # the primary key serves it
    assert _keys(shop, filter=None, sort="-id") == [("id", True)]
    assert _keys(shop, sort="nothing_such") == [("customer", False), ("title", False),
                                                ("id", False)]


async def test_publishing_a_view_creates_its_index_once(shop) -> None:
    doc = shop.edited()
    doc["views"] = {"big_orders": ORDERS}
    published = await shop.publish(doc)
    assert published.status_code == 200, published.text
    name = [n for n in await shop.indexes("order") if n.startswith("ixv_")]
    assert name == [f"ixv_{shop.table('order')}_customer_title_amount_desc_id"]
    schema, table = shop.namespace.schema, shop.table("order")
    async with shop.services.database.read() as conn:
        found = await conn.run_sync(lambda c: inspect(c).get_indexes(table, schema=schema))
    index = next(i for i in found if i["name"] == name[0])
    assert index["column_names"] == ["customer", "title", "amount", "id"]
    if shop.postgres:
        assert set(index["column_sorting"]) == {"amount"}, index
        assert {"desc", "nulls_last"} <= set(index["column_sorting"]["amount"]), index
    else:  # SQLite's reflection leaves out the direction: its own definition says it
        async with shop.services.database.read() as conn:
            made = await conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = :n"),
                                     {"n": name[0]})
        assert "(customer, title, amount DESC, id)" in made

    doc["views"]["big_orders"]["label"] = "Large orders"
    doc["views"]["same_shape"] = {**ORDERS, "label": "Same shape"}
    again = await shop.publish(doc)
    assert again.status_code == 200, again.text
    assert not [c for c in again.json()["changes"] if "index" in c], again.json()["changes"]
    assert [n for n in await shop.indexes("order") if n.startswith("ixv_")] == name


async def test_removing_the_view_drops_its_index(shop) -> None:
    doc = shop.edited()
    doc["views"] = {"big_orders": ORDERS}
    assert (await shop.publish(doc)).status_code == 200
    del doc["views"]["big_orders"]
    removed = await shop.publish(doc)
    assert removed.status_code == 200, removed.text
    assert any(c.startswith("drop index ixv_") for c in removed.json()["changes"])
    assert not [n for n in await shop.indexes("order") if n.startswith("ixv_")]
