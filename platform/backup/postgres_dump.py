"""Backups on PostgreSQL, all from one snapshot: a read-only REPEATABLE READ transaction
exports its snapshot, copies the platform tables' rows of the workspace (``COPY … TO`` in
binary), and ``pg_dump --snapshot`` dumps the workspace's schema (its apps' tables) as of
that same moment. Restoring loads the rows back (``COPY … FROM``) into platform tables at
the archive's schema revision, then ``pg_restore`` recreates the schema."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from loom.metamodel.errors import LoomError
from loom.platform.backup.scope import backed_up, platform_tables
from loom.platform.storage.system_tables import stored_files, workspaces

DIALECT = postgresql.dialect()


class ToolFailed(LoomError):
    """pg_dump or pg_restore is missing or failed."""


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """The database as pg_dump/pg_restore take it (the password in the environment, never
    on a command line that ``ps`` shows)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None, query={})
    return plain.render_as_string(hide_password=False), env


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql", query={}).render_as_string(
        hide_password=False)


def compiled(statement: Any) -> str:
    return str(statement.compile(dialect=DIALECT, compile_kwargs={"literal_binds": True}))


def _rows_query(table: Table, workspace: int | None) -> str | None:
    """The rows of ``table`` a backup takes (None: none, a global table of one workspace's
    backup)."""
    condition = backed_up(table, workspace)
    return None if condition is None else compiled(select(table).where(condition))


async def copy_out(conn: asyncpg.Connection, workspace: int | None,
                   folder: Path) -> dict[str, int]:
    """The platform rows of the workspace (or all), one binary COPY file per table."""
    counts: dict[str, int] = {}
    for table in platform_tables():
        query = _rows_query(table, workspace)
        if query is None:
            continue
        status = await conn.copy_from_query(query, output=folder / f"{table.name}.copy",
                                            format="binary")
        counts[table.name] = int(status.split()[-1])
    return counts


async def copy_in(conn: asyncpg.Connection, folder: Path) -> None:
    """Load the COPY files into the platform tables (parents first) and move each id
    sequence past the ids restored, so new rows get new ids."""
    for table in platform_tables():
        source = folder / f"{table.name}.copy"
        if source.exists():
            # by name: a migration may have added columns in another order than here
            await conn.copy_to_table(table.name, source=source, format="binary",
                                     columns=[column.name for column in table.c])
        if "id" in table.c and table.c.id.autoincrement is not False and \
                len(table.primary_key.columns) == 1:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"coalesce((SELECT max(id) FROM \"{table.name}\"), 0) + 1, false) "
                f"WHERE pg_get_serial_sequence('{table.name}', 'id') IS NOT NULL")


async def workspace_slugs(conn: asyncpg.Connection, workspace: int | None) -> list[str]:
    query = select(workspaces.c.slug).order_by(workspaces.c.id)
    if workspace is not None:
        query = query.where(workspaces.c.id == workspace)
    return [row[0] for row in await conn.fetch(compiled(query))]


async def existing_schemas(conn: asyncpg.Connection, names: list[str]) -> list[str]:
    rows = await conn.fetch("SELECT schema_name FROM information_schema.schemata "
                            "WHERE schema_name = any($1::text[]) ORDER BY schema_name", names)
    return [row[0] for row in rows]


async def schema_counts(conn: asyncpg.Connection, schemas: list[str]) -> dict[str, int]:
    tables = await conn.fetch("SELECT table_schema, table_name FROM information_schema.tables "
                              "WHERE table_schema = any($1::text[]) AND table_type = 'BASE TABLE' "
                              "ORDER BY 1, 2", schemas)
    counts = {}
    for schema, name in tables:
        counts[f"{schema}.{name}"] = int(await conn.fetchval(
            f'SELECT count(*) FROM "{schema}"."{name}"'))
    return counts


async def file_keys(conn: asyncpg.Connection, workspace: int | None) -> list[tuple[int, str]]:
    query = select(stored_files.c.workspace_id, stored_files.c.key).order_by(stored_files.c.id)
    if workspace is not None:
        query = query.where(stored_files.c.workspace_id == workspace)
    return [(int(row[0]), row[1]) for row in await conn.fetch(compiled(query))]


async def dump_schemas(url: str, snapshot: str, schemas: list[str], target: Path) -> None:
    """``pg_dump`` of the schemas as of ``snapshot`` (custom format, no owners or grants:
    the restoring role owns what it restores)."""
    args = ["--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
            f"--file={target}"] + [f"--schema={name}" for name in schemas]
    await _run_tool("pg_dump", url, args)


async def restore_schemas(url: str, source: Path) -> None:
    await _run_tool("pg_restore", url, ["--no-owner", "--no-privileges", "--exit-on-error",
                                        "--single-transaction", str(source)])


async def _run_tool(tool: str, url: str, args: list[str]) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise ToolFailed(f"{tool} was not found; install the PostgreSQL client tools "
                         f"(Debian/Ubuntu: apt-get install postgresql-client)")
    dsn, env = libpq_target(url)
    process = await asyncio.create_subprocess_exec(
        executable, f"--dbname={dsn}", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, errors = await process.communicate()
    if process.returncode != 0:
        raise ToolFailed(f"{tool} failed: {errors.decode('utf-8', 'replace').strip()[-2000:]}")
