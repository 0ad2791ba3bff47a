"""A scratch database for a benchmark — SQLite in a temporary folder, or a new database on
a PostgreSQL server, dropped at the end — migrated, with the first admin and the services."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.platform.bootstrap import bootstrap
from loom.platform.clock import Clock
from loom.platform.security.actors import Actor
from loom.platform.security.users import actor_from_row
from loom.platform.services import Services, build_services
from loom.platform.settings import Settings, async_database_url
from loom.platform.storage.database import Database, create_engine
from loom.platform.storage.migrate import upgrade
from loom.platform.storage.system_tables import users

ADMIN = "admin@example.com"


async def admin_actor(conn: AsyncConnection) -> Actor:
    """The scratch workspace's first administrator, who creates the benchmarks' apps."""
    row = (await conn.execute(select(users).where(users.c.email == ADMIN))).mappings().one()
    return actor_from_row(row)


@asynccontextmanager
async def scratch_services(server_url: str | None) -> AsyncIterator[tuple[Services, str]]:
    """Services on a new database (on PostgreSQL at ``server_url``, else SQLite) and a
    label naming the database and its version."""
    if not server_url:
        with tempfile.TemporaryDirectory() as folder:
            async with _services(f"sqlite+aiosqlite:///{folder}/bench.db") as services:
                yield services, f"SQLite {sqlite3.sqlite_version}"
        return
    server = make_url(async_database_url(server_url))
    name = f"loom_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(server.set(drivername="postgresql")
                                  .render_as_string(hide_password=False))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            async with _services(server.set(database=name).render_as_string(
                    hide_password=False)) as services:
                version = (await admin.fetchval("SHOW server_version")).split()[0]
                yield services, f"PostgreSQL {version}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def _services(url: str) -> AsyncIterator[Services]:
    settings = Settings(database_url=url, admin_email=ADMIN, admin_password="bench-password-1")
    database = Database(create_engine(url, pool_size=4))
    try:
        await upgrade(database)
        await bootstrap(database, settings, Clock())
        yield build_services(settings, Clock(), database)
    finally:
        await database.dispose()


async def timed(work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """Seconds ``work`` took, and what it gave."""
    started = time.perf_counter()
    result = await work()
    return time.perf_counter() - started, result


async def analyze(services: Services) -> None:
    """Statistics for the planner (and on PostgreSQL the visibility map and hint bits) set
    after a bulk load, so no measurement pays for the first read of the new rows."""
    if services.database.is_postgres:
        async with services.database.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    else:
        async with services.database.write() as conn:
            await conn.execute(text("ANALYZE"))
