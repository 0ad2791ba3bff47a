"""Shared fixtures. Storage tests run on every database in LOOM_TEST_DATABASES
(default: SQLite and PostgreSQL). A database that cannot be reached fails the tests that
need it; nothing is skipped."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from loom.platform.settings import async_database_url
from loom.platform.storage.database import Database, create_engine

DATABASES = [name.strip() for name in
             os.environ.get("LOOM_TEST_DATABASES", "sqlite,postgresql").split(",") if name.strip()]
POSTGRES_URL = async_database_url(
    os.environ.get("LOOM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
RUN_ID = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
_created_pg_databases: list[str] = []


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url)
    if database:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


async def create_pg_database(template: str | None = None) -> str:
    """A new PostgreSQL database for one test; dropped when the session ends."""
    name = f"loom_t_{RUN_ID}_{len(_created_pg_databases)}"
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        suffix = f' TEMPLATE "{template}"' if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{suffix}')
    finally:
        await admin.close()
    _created_pg_databases.append(name)
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


async def drop_pg_databases(names: list[str]) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session", autouse=True)
def _drop_test_databases() -> object:
    yield
    if _created_pg_databases:
        import asyncio

        asyncio.run(drop_pg_databases(list(_created_pg_databases)))


@pytest.fixture(params=DATABASES)
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """The URL of a new, empty database of each kind under test."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/loom.db"
    if request.param == "postgresql":
        return await create_pg_database()
    raise ValueError(f"unknown test database {request.param!r}")


@pytest.fixture
async def empty_database(empty_database_url: str) -> AsyncIterator[Database]:
    database = Database(create_engine(empty_database_url, pool_size=4))
    yield database
    await database.dispose()
