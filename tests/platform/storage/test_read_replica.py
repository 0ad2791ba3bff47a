"""The read replica, with a real standby (``pg_basebackup -R``) of a private PostgreSQL
cluster on loopback: a dashboard and an export read on the standby (proven by pausing its
replay — they show the standby's older data while the primary has more — and by the
reader's connection on the standby), the primary's writes arrive, the lag is measured, a
standby too far behind or stopped sends the reads to the primary without an error, and
the standby is taken up again once it is back. Bounded in time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fixture_kit import ADMIN_EMAIL, START
from pg_cluster import Cluster, loom_database, private_primary
from sqlalchemy import select

from loom.platform.api.app import create_app
from loom.platform.clock import FixedClock
from loom.platform.metrics import REGISTRY
from loom.platform.security.tokens import issue_token
from loom.platform.services import Services, build_services
from loom.platform.settings import Settings
from loom.platform.storage.database import Database, create_engine
from loom.platform.storage.replica import Replica
from loom.platform.storage.system_tables import users

APP = "/api/apps/shop"
DOC: dict[str, Any] = {
    "app": {"label": {"en": "Shop"}},
    "entities": {"deal": {"label": {"en": "Deal"}, "fields": {
        "title": {"type": "text"}, "amount": {"type": "currency"}}}},
    "dashboards": {"sales": {"label": {"en": "Sales"}, "widgets": [
        {"kind": "metric", "name": "deals", "label": "Deals", "entity": "deal"}]}},
}
READER = "loom-replica-reader"


@pytest.fixture
async def primary_and_standby() -> AsyncIterator[tuple[Cluster, Cluster]]:
    """A private primary with Loom's tables and first admin, and a standby streaming it."""
    with private_primary() as primary:
        await loom_database(primary)
        yield primary, primary.standby()


@pytest.fixture
async def shop(primary_and_standby: tuple[Cluster, Cluster],
               tmp_path: Path) -> AsyncIterator[tuple[Services, httpx.AsyncClient]]:
    """Loom on the primary, its lag-tolerant reads on the standby (lag measured on every
    read; a standby set aside is tried again after half a second)."""
    primary, standby = primary_and_standby
    replica = Replica(create_engine(standby.url("loom"), pool_size=2,
                                    application_name=READER, connect_timeout=2),
                      max_lag=30, retry_seconds=0.5, lag_every=0)
    database = Database(create_engine(primary.url("loom"), pool_size=4), replica=replica)
    settings = Settings(database_url=primary.url("loom"), data_dir=tmp_path / "data",
                        database_replica_url=standby.url("loom"))
    services = build_services(settings, FixedClock(START), database)
    async with database.write() as conn:
        admin_id = await conn.scalar(select(users.c.id).where(users.c.email == ADMIN_EMAIL))
        token = await issue_token(conn, admin_id, services.clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(
            services=services)), base_url="http://loom.test",
            headers={"Authorization": f"Bearer {token}"}) as client:
        created = await client.post("/api/apps", json={"slug": "shop", "metadata": DOC})
        assert created.status_code == 201, created.text
        yield services, client
    await database.dispose()


async def deals_on_dashboard(client: httpx.AsyncClient) -> int:
    response = await client.get(f"{APP}/dashboards/sales")
    assert response.status_code == 200, response.text
    [widget] = response.json()["widgets"]
    return int(widget["value"])


async def deals_exported(client: httpx.AsyncClient) -> int:
    response = await client.get(f"{APP}/records/deal/export", params={"format": "csv"})
    assert response.status_code == 200, response.text
    return len(response.text.strip().splitlines()) - 1  # the header row


async def add_deal(client: httpx.AsyncClient, number: int) -> None:
    response = await client.post(f"{APP}/records/deal", json={"title": f"订单 {number}",
                                                              "amount": "100.00"})
    assert response.status_code == 201, response.text


def reads_on(target: str) -> float:
    """Lag-tolerant reads ``target`` (replica, primary) answered, as /metrics shows them."""
    return REGISTRY.get_sample_value("loom_db_replica_reads_total", {"target": target}) or 0.0


def set_aside(*reasons: str) -> float:
    """Times the replica was set aside for any of ``reasons``."""
    return sum(REGISTRY.get_sample_value("loom_db_replica_fallbacks_total",
                                         {"reason": reason}) or 0.0 for reason in reasons)


async def until_the_standby_shows(client: httpx.AsyncClient, deals: int) -> None:
    """Open the dashboard again until the standby answers it with ``deals`` (replication,
    and taking up a standby set aside, each take a moment)."""
    async with asyncio.timeout(30):
        while True:
            before = reads_on("replica")
            shown = await deals_on_dashboard(client)
            if shown == deals and reads_on("replica") > before:
                return
            await asyncio.sleep(0.1)


async def readers_on(standby: Cluster) -> list[str]:
    conn = await asyncpg.connect(host="127.0.0.1", port=standby.port, user="postgres",
                                 database="loom")
    try:
        return [row["application_name"] for row in await conn.fetch(
            "SELECT application_name FROM pg_stat_activity WHERE datname = 'loom'")]
    finally:
        await conn.close()


async def on_primary(primary: Cluster, *statements: str) -> None:
    conn = await asyncpg.connect(host="127.0.0.1", port=primary.port, user="postgres",
                                 database="loom")
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def until_role_arrives(standby: Cluster, role: str) -> None:
    conn = await asyncpg.connect(host="127.0.0.1", port=standby.port, user="postgres")
    try:
        async with asyncio.timeout(30):
            while True:
                if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
                    return
                await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def replay(standby: Cluster, paused: bool) -> None:
    conn = await asyncpg.connect(host="127.0.0.1", port=standby.port, user="postgres")
    try:
        await conn.execute("SELECT pg_wal_replay_pause()" if paused
                           else "SELECT pg_wal_replay_resume()")
    finally:
        await conn.close()


async def test_lag_tolerant_reads_go_to_the_standby_and_fall_back_to_the_primary(
        primary_and_standby: tuple[Cluster, Cluster],
        shop: tuple[Services, httpx.AsyncClient]) -> None:
    primary, standby = primary_and_standby
    services, client = shop
    replica = services.database.replica
    assert replica is not None
    async with asyncio.timeout(180):
        for number in range(3):
            await add_deal(client, number)
        await until_the_standby_shows(client, 3)  # written on the primary, arrived
        assert replica.lag is not None and replica.lag < 30

        # the standby stops replaying: what it serves stays behind the primary
        await replay(standby, paused=True)
        await add_deal(client, 3)
        on_replica = reads_on("replica")
        assert await deals_on_dashboard(client) == 3  # the standby's data, not the primary's
        assert await deals_exported(client) == 3
        assert reads_on("replica") >= on_replica + 2
        listed = (await client.get(f"{APP}/records/deal")).json()["items"]
        assert len(listed) == 4  # an ordinary read (the list after a save) is the primary's
        assert READER in await readers_on(standby)

        # further behind than allowed: the primary answers, and says so
        lagging = set_aside("lagging")
        replica.max_lag = 0.001
        await asyncio.sleep(0.2)  # the standby ages while its replay is paused
        assert await deals_on_dashboard(client) == 4
        assert set_aside("lagging") == lagging + 1
        assert replica.lag is not None and replica.lag > 0.001
        replica.max_lag = 30
        await replay(standby, paused=False)
        await until_the_standby_shows(client, 4)  # taken up again, caught up

        # the standby stopped: reads still answer, from the primary
        standby.stop()
        unreachable = set_aside("unreachable", "failed")
        await add_deal(client, 4)
        assert await deals_on_dashboard(client) == 5
        assert await deals_exported(client) == 5
        assert set_aside("unreachable", "failed") > unreachable

        # back again: after the retry interval the standby takes the reads again
        standby.start()
        await until_the_standby_shows(client, 5)

        # a standby that fails under the read (here its role may not read the deals): the
        # same read again on the primary, an answer rather than an error
        await on_primary(primary, "CREATE ROLE reader LOGIN",
                         "GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader",
                         "GRANT USAGE ON SCHEMA ws_default TO reader")
        await until_role_arrives(standby, "reader")
        await replica.dispose()
        refused = set_aside("failed")
        services.database.replica = Replica(
            create_engine(standby.url("loom").replace("postgres@", "reader@"), pool_size=2,
                          application_name=READER), max_lag=30, retry_seconds=0)
        assert await deals_on_dashboard(client) == 5
        assert set_aside("failed") == refused + 1
        assert await deals_exported(client) == 5
        assert set_aside("failed") >= refused + 2


def test_a_replica_needs_postgresql(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="LOOM_DATABASE_REPLICA_URL needs PostgreSQL"):
        Settings(data_dir=tmp_path, database_replica_url="postgresql://127.0.0.1/loom")


async def test_the_settings_open_the_replica(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql://127.0.0.1:1/loom",
                        database_replica_url="postgres://reader@127.0.0.1:2/loom",
                        database_replica_max_lag_seconds=5,
                        database_replica_retry_seconds=3)
    database = settings.open_database()
    try:
        assert database.replica is not None
        assert database.replica.engine.url.render_as_string() == \
            "postgresql+asyncpg://reader@127.0.0.1:2/loom"
        assert (database.replica.max_lag, database.replica.retry_seconds) == (5, 3)
    finally:
        await database.dispose()
    without = Settings(data_dir=tmp_path, database_url="postgresql://127.0.0.1:1/loom")
    database = without.open_database()
    assert database.replica is None
    await database.dispose()
