"""A publish meets tables other transactions are using: on PostgreSQL the DDL waits at most
the lock timeout and is refused ("tables are busy"), never hangs; on SQLite readers never
block it and a writer makes it queue until that writer commits."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text


def _with_phone(shop) -> dict:
    doc = shop.edited()
    doc["entities"]["customer"]["fields"]["phone"] = {"type": "phone"}
    return doc


async def _hold(conn, shop, how: str, record_id: int) -> None:
    if how == "lock":
        if shop.postgres:
            await conn.execute(text(
                f"LOCK TABLE {shop.qualified('customer')} IN ACCESS SHARE MODE"))
        else:  # SQLite has no table locks; an open read transaction is the nearest thing
            await conn.execute(text(f"SELECT count(*) FROM {shop.qualified('customer')}"))
    else:
        await conn.execute(text(f"UPDATE {shop.qualified('customer')} SET city = 'Busy' "
                                "WHERE id = :id"), {"id": record_id})


@pytest.mark.parametrize("how", ["lock", "uncommitted_update"])
async def test_publish_needing_a_held_table(shop, how: str) -> None:
    acme = await shop.create("customer", {"name": "Acme"})
    shop.services.apps.ddl_lock_timeout_ms = 200
    doc = _with_phone(shop)
    database = shop.services.database
    holder = database.write() if how == "uncommitted_update" else database.read()

    if shop.postgres:
        async with holder as conn:
            await _hold(conn, shop, how, acme["id"])
            # the holder keeps its lock past the wait: only the lock timeout ends it
            refused = await asyncio.wait_for(shop.publish(doc), timeout=10)
        assert refused.status_code == 422, refused.text
        assert "busy" in refused.json()["detail"]
        assert await shop.version() == 1
        assert "phone" not in await shop.columns("customer")
        published = await shop.publish(doc)
    elif how == "lock":
        async with holder as conn:
            await _hold(conn, shop, how, acme["id"])
            published = await asyncio.wait_for(shop.publish(doc), timeout=10)
    else:
        # the publish queues behind the open write transaction, then goes through
        async with holder as conn:
            await _hold(conn, shop, how, acme["id"])
            waiting = asyncio.create_task(shop.publish(doc))
            await asyncio.sleep(0.2)
            assert not waiting.done()
        published = await asyncio.wait_for(waiting, timeout=10)

    assert published.status_code == 200, published.text
    assert "phone" in await shop.columns("customer")
    assert await shop.version() == 2


async def test_dry_run_against_a_busy_table_is_refused_promptly(shop) -> None:
    shop.services.apps.ddl_lock_timeout_ms = 200
    async with shop.services.database.read() as conn:
        await _hold(conn, shop, "lock", 0)
        planned = await asyncio.wait_for(shop.publish(_with_phone(shop), dry_run=True),
                                         timeout=10)
    if shop.postgres:
        assert planned.status_code == 422, planned.text
        assert "busy" in planned.json()["detail"]
    else:
        assert planned.status_code == 200, planned.text
    assert await shop.version() == 1
