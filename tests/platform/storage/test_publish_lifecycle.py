"""Publishing as a whole: dry runs, stale drafts, references, workspaces, deleting an app."""

from __future__ import annotations

import asyncio

import pytest
from fixture_kit import delete_read
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from loom.platform.security.users import NewUser, create_user, ensure_workspace
from loom.platform.storage.entity_tables import Namespace


def _with_phone(shop) -> dict:
    doc = shop.edited()
    doc["entities"]["customer"]["fields"]["phone"] = {"type": "phone"}
    return doc


async def test_dry_run_reports_the_plan_and_changes_nothing(shop) -> None:
    before = await shop.columns("customer")

    planned = await shop.publish(_with_phone(shop), dry_run=True)

    assert planned.status_code == 200, planned.text
    assert planned.json()["dry_run"] is True
    assert planned.json()["version"] == 2
    assert "add column customer.phone" in planned.json()["changes"]
    assert await shop.version() == 1
    assert await shop.columns("customer") == before
    described = (await shop.api.get("/api/apps/shop")).json()
    assert described["has_draft"] is True
    published = await shop.api.post("/api/apps/shop/metadata/publish", json={})
    assert published.status_code == 200, published.text
    assert "phone" in await shop.columns("customer")


async def test_dry_run_of_a_type_change_leaves_the_table_as_it_was(shop) -> None:
    order = await shop.create("order", {"title": "Parts", "quantity": 5})
    before = await shop.columns("order")
    doc = shop.edited()
    doc["entities"]["order"]["fields"]["quantity"] = {"type": "text"}

    planned = await shop.publish(doc, dry_run=True)

    assert planned.status_code == 200, planned.text
    assert "change type order.quantity integer -> text" in planned.json()["changes"]
    assert await shop.columns("order") == before
    assert (await shop.get("order", order["id"]))["quantity"] == 5
    assert await shop.version() == 1


async def test_dry_run_of_a_refused_change_is_refused(shop) -> None:
    doc = shop.edited()
    doc["entities"]["order"]["fields"]["title"] = {"type": "date"}

    refused = await shop.publish(doc, dry_run=True)

    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["entities.order.fields.title"]


async def test_two_publishes_from_the_same_base_version_one_gets_a_conflict(shop) -> None:
    saved = await shop.api.put("/api/apps/shop/metadata/draft", json=_with_phone(shop))
    assert saved.status_code == 200, saved.text

    first, second = await asyncio.gather(*(
        shop.api.post("/api/apps/shop/metadata/publish", json={"base_version": 1})
        for _ in range(2)))

    assert sorted([first.status_code, second.status_code]) == [200, 409]
    assert await shop.version() == 2


async def test_a_stale_base_version_is_refused_after_a_later_publish(shop) -> None:
    assert (await shop.publish(_with_phone(shop), base_version=1)).status_code == 200
    doc = shop.edited()
    doc["entities"]["customer"]["fields"]["email"] = {"type": "email"}

    stale = await shop.publish(doc, base_version=1)

    assert stale.status_code == 409, stale.text
    assert await shop.version() == 2
    assert "email" not in await shop.columns("customer")


async def test_lookups_are_foreign_keys_to_the_referenced_table(shop) -> None:
    keys = await shop.foreign_keys("order")
    assert keys["customer"][1] == shop.table("customer")
    if shop.postgres:
        assert keys["customer"][0] in (None, shop.namespace.schema)
    acme = await shop.create("customer", {"name": "Acme"})
    await shop.create("order", {"title": "First", "customer": acme["id"]})

    # the database itself refuses a dangling reference, whatever writes the row
    async with shop.services.database.write() as conn:
        with pytest.raises(IntegrityError):
            async with conn.begin_nested():
                await conn.execute(text(
                    f"INSERT INTO {shop.qualified('order')} (version, created_at, "
                    "updated_at, customer) VALUES (1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                    "424242)"))

    in_use = await delete_read(shop.api, f"/api/apps/shop/records/customer/{acme['id']}")
    assert in_use.status_code == 409, in_use.text


async def test_each_workspace_keeps_its_tables_apart(shop, services, anonymous) -> None:
    async with services.database.write() as conn:
        workspace = await ensure_workspace(conn, "acme", services.clock, "Acme Corp")
        await create_user(conn, workspace, NewUser(email="boss@acme.example", name="Boss",
                                                   password="boss-password-1",
                                                   is_admin=True), services.clock)
    login = await anonymous.post("/api/auth/token", json={"email": "boss@acme.example",
                                                           "password": "boss-password-1"})
    assert login.status_code == 200, login.text
    acme_headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    created = await anonymous.post("/api/apps", headers=acme_headers,
                                   json={"slug": "shop", "metadata": shop.edited()})
    assert created.status_code == 201, created.text
    await shop.create("customer", {"name": "Default's customer"})

    theirs = await anonymous.get("/api/apps/shop/records/customer", headers=acme_headers)

    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["items"] == []
    acme = Namespace.for_app("acme", "shop", postgres=shop.postgres)
    async with services.database.read() as conn:
        if shop.postgres:
            assert shop.namespace.schema == "ws_default" and acme.schema == "ws_acme"
            placed = set((await conn.execute(text(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_name LIKE 'shop\\_\\_%'"))).scalars())
            assert placed == {"ws_default.shop__customer", "ws_default.shop__order",
                              "ws_acme.shop__customer", "ws_acme.shop__order"}
        else:
            assert acme.table_name("customer") == "acme__shop__customer"
            count = await conn.scalar(text('SELECT count(*) FROM "acme__shop__customer"'))
            assert count == 0


async def test_deleting_an_app_drops_all_its_tables(shop) -> None:
    acme = await shop.create("customer", {"name": "Acme"})
    await shop.create("order", {"title": "First", "customer": acme["id"]})
    doc = shop.edited()
    del doc["entities"]["order"]  # a table kept from an earlier version goes too
    assert (await shop.publish(doc)).status_code == 200

    deleted = await shop.api.delete("/api/apps/shop")

    assert deleted.status_code == 204, deleted.text
    assert await shop.tables() == set()
    assert (await shop.api.get("/api/apps/shop")).status_code == 404
    again = await shop.api.post("/api/apps", json={"slug": "shop", "metadata": shop.doc})
    assert again.status_code == 201, again.text
    listed = await shop.api.get("/api/apps/shop/records/customer")
    assert listed.json()["items"] == []
