"""The platform's own tables: the Alembic migrations build them, agree with their Core
definitions, and can be run again without harm."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from loom.platform.storage.database import Database
from loom.platform.storage.migrate import current_revision, head_revision, upgrade
from loom.platform.storage.system_tables import system_metadata


def _differences(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, system_metadata)


async def _table_names(database: Database) -> set[str]:
    async with database.read() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_on_an_empty_database_reaches_head(empty_database: Database) -> None:
    assert await current_revision(empty_database) is None

    await upgrade(empty_database)

    assert head_revision() is not None
    assert await current_revision(empty_database) == head_revision()
    assert set(system_metadata.tables) <= await _table_names(empty_database)


async def test_migrations_agree_with_the_table_definitions(empty_database: Database) -> None:
    await upgrade(empty_database)

    async with empty_database.read() as conn:
        differences = await conn.run_sync(_differences)

    assert differences == []


async def test_upgrading_twice_is_harmless(empty_database: Database) -> None:
    await upgrade(empty_database)
    tables = await _table_names(empty_database)

    await upgrade(empty_database)

    assert await current_revision(empty_database) == head_revision()
    assert await _table_names(empty_database) == tables
