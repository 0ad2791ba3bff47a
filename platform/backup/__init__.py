"""``loom backup`` and ``loom restore``: the whole database or one workspace, with the files
uploaded to its records, in one archive whose manifest says what it holds (``archive.py``).

A backup is consistent while the server keeps writing: on SQLite the online backup API
copies the database as of one moment (``sqlite_copy.py``); on PostgreSQL one exported
snapshot serves the platform rows and ``pg_dump`` of the workspace's schema
(``postgres_dump.py``). Files are immutable once kept (a new upload gets a new key), so the
files named by the rows of that moment are the files of that moment.

A restore goes into an empty database of the same kind (a new SQLite file, a new
PostgreSQL database), refuses an archive that is damaged or made by a newer Loom, and
upgrades what it restored to this Loom's schema.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy import func, inspect, select

from loom.metamodel.errors import BadRequest, Conflict, LoomError, NotFound
from loom.metamodel.i18n import message, register_messages
from loom.platform.backup import postgres_dump, sqlite_copy
from loom.platform.backup.archive import Manifest, copy_file, read_archive, write_archive
from loom.platform.settings import Settings
from loom.platform.storage.database import Database
from loom.platform.storage.migrate import current_revision, known_revisions, upgrade
from loom.platform.storage.system_tables import workspaces

register_messages({
    "backup_no_workspace": {"en": "There is no workspace '{workspace}'",
                            "zh-CN": "工作区“{workspace}”不存在"},
    "backup_other_database": {
        "en": "The backup {file} is of a {found} database; this Loom runs on {here}. "
              "Restore it into a {found} database",
        "zh-CN": "备份 {file} 来自 {found} 数据库，而此 Loom 使用 {here}。请恢复到 {found} 数据库"},
    "backup_newer_schema": {
        "en": "The backup {file} was made by a newer Loom ({made_by}, schema revision "
              "{revision}); upgrade Loom, then restore it",
        "zh-CN": "备份 {file} 由更新版本的 Loom（{made_by}，架构版本 {revision}）生成；"
                 "请先升级 Loom 再恢复"},
    "backup_target_not_empty": {
        "en": "The database to restore into is not empty ({what}); restore into a new, "
              "empty database",
        "zh-CN": "要恢复到的数据库不是空的（{what}）；请恢复到一个新的空数据库"},
    "backup_restore_failed": {
        "en": "The restore failed: {reason}. The database may be partly restored: drop it, "
              "create it again (empty) and retry",
        "zh-CN": "恢复失败：{reason}。数据库可能已部分恢复：请删除并重新创建（空的）数据库后重试"},
    "backup_target_migrated": {
        "en": "The database to restore into is at schema revision {found}, the backup at "
              "{revision}; restore into a new, empty database (without running "
              "loom db upgrade on it first)",
        "zh-CN": "要恢复到的数据库架构版本为 {found}，备份为 {revision}；请恢复到一个新的空数据库"
                 "（恢复前不要运行 loom db upgrade）"},
})

DATABASE_MEMBER = {"sqlite": "database.sqlite", "postgresql": "schemas.pgdump"}


@dataclass(frozen=True)
class Outcome:
    """What a backup wrote or a restore brought back."""

    manifest: Manifest
    archive: Path


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- backup ---------------------------------------------------------------------------


async def back_up(settings: Settings, target: Path, workspace: str | None = None) -> Outcome:
    """Write the archive of the whole database (or of ``workspace``) to ``target``."""
    url = settings.resolved_database_url()
    with tempfile.TemporaryDirectory(prefix="loom-backup-", dir=target.parent) as work:
        folder = Path(work)
        if settings.is_sqlite:
            manifest, members, keys = await asyncio.to_thread(_sqlite_backup, url, folder,
                                                              workspace)
        else:
            manifest, members, keys = await _postgres_backup(url, folder, workspace)
        _add_files(settings.data_dir / "files", keys, manifest, members)
        await asyncio.to_thread(write_archive, target, manifest, members)
    return Outcome(manifest, target)


def _sqlite_backup(url: str, folder: Path, workspace: str | None
                   ) -> tuple[Manifest, dict[str, Path], list[tuple[int, str]]]:
    copy = folder / DATABASE_MEMBER["sqlite"]
    sqlite_copy.online_copy(sqlite_copy.sqlite_path(url), copy)
    with sqlite_copy.open_copy(copy) as conn:
        found = None
        if workspace is not None:
            found = sqlite_copy.workspace_id(conn, workspace)
            if found is None:
                raise NotFound(message("backup_no_workspace", workspace=workspace))
        sqlite_copy.prune(conn, found, workspace)
        manifest = Manifest(created_at=_now(), database="sqlite",
                            revision=sqlite_copy.revision(conn), workspace=workspace,
                            counts=sqlite_copy.row_counts(conn))
        keys = sqlite_copy.file_keys(conn)
    return manifest, {copy.name: copy}, keys


async def _postgres_backup(url: str, folder: Path, workspace: str | None
                           ) -> tuple[Manifest, dict[str, Path], list[tuple[int, str]]]:
    conn = await asyncpg.connect(postgres_dump.asyncpg_dsn(url))
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            workspace_id = None
            if workspace is not None:
                workspace_id = await conn.fetchval(postgres_dump.compiled(
                    select(workspaces.c.id).where(workspaces.c.slug == workspace)))
                if workspace_id is None:
                    raise NotFound(message("backup_no_workspace", workspace=workspace))
            rows = folder / "rows"
            rows.mkdir()
            counts = await postgres_dump.copy_out(conn, workspace_id, rows)
            slugs = await postgres_dump.workspace_slugs(conn, workspace_id)
            schemas = await postgres_dump.existing_schemas(conn, [f"ws_{s}" for s in slugs])
            counts |= await postgres_dump.schema_counts(conn, schemas)
            manifest = Manifest(created_at=_now(), database="postgresql",
                                revision=await conn.fetchval(
                                    "SELECT version_num FROM alembic_version"),
                                workspace=workspace, counts=counts, schemas=schemas)
            members = {f"rows/{path.name}": path for path in sorted(rows.iterdir())}
            if schemas:
                dump = folder / DATABASE_MEMBER["postgresql"]
                # while this transaction stays open, its snapshot is pg_dump's
                await postgres_dump.dump_schemas(url, snapshot, schemas, dump)
                members[dump.name] = dump
            keys = await postgres_dump.file_keys(conn, workspace_id)
    finally:
        await conn.close()
    return manifest, members, keys


def _add_files(root: Path, keys: list[tuple[int, str]], manifest: Manifest,
               members: dict[str, Path]) -> None:
    for workspace_id, key in keys:
        name = f"files/{workspace_id}/{key}"
        path = root / str(workspace_id) / key
        if path.is_file():
            members[name] = path
        else:
            manifest.missing_files.append(name)
    manifest.counts["files"] = len(keys) - len(manifest.missing_files)


# --- restore --------------------------------------------------------------------------


async def restore(settings: Settings, source: Path) -> Outcome:
    """Restore the archive at ``source`` into the (empty) database ``settings`` name."""
    if not await asyncio.to_thread(source.is_file):
        raise NotFound(message("backup_damaged", file=source.name, reason="no such file"))
    here = "sqlite" if settings.is_sqlite else "postgresql"
    with tempfile.TemporaryDirectory(prefix="loom-restore-") as work:
        folder = Path(work)
        manifest = await asyncio.to_thread(read_archive, source, folder)
        _check_restorable(manifest, source, here)
        database = settings.open_database()
        try:
            await _check_empty(database, manifest)
            if here == "sqlite":
                await database.dispose()
                await asyncio.to_thread(
                    sqlite_copy.restore_copy, folder / DATABASE_MEMBER["sqlite"],
                    sqlite_copy.sqlite_path(settings.resolved_database_url()))
            else:
                await _postgres_restore(settings.resolved_database_url(), database,
                                        manifest, folder)
            await upgrade(database)
        finally:
            await database.dispose()
        for name in manifest.members:
            if name.startswith("files/"):
                await asyncio.to_thread(copy_file, folder / name, settings.data_dir / name)
    return Outcome(manifest, source)


def _check_restorable(manifest: Manifest, source: Path, here: str) -> None:
    if manifest.database != here:
        raise BadRequest(message("backup_other_database", file=source.name,
                                 found=manifest.database, here=here))
    if manifest.revision not in known_revisions():
        raise BadRequest(message("backup_newer_schema", file=source.name,
                                 made_by=manifest.loom_version, revision=manifest.revision))


async def _check_empty(database: Database, manifest: Manifest) -> None:
    async with database.read() as conn:
        names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        if "workspaces" in names:
            count = await conn.scalar(select(func.count()).select_from(workspaces))
            if count:
                raise Conflict(message("backup_target_not_empty",
                                       what=f"{count} workspace(s)"))
        if manifest.schemas:
            schemas = await conn.run_sync(lambda sync: inspect(sync).get_schema_names())
            taken = sorted(set(schemas) & set(manifest.schemas))
            if taken:
                raise Conflict(message("backup_target_not_empty",
                                       what=", ".join(taken)))
    found = await current_revision(database) if "alembic_version" in names else None
    if found not in (None, manifest.revision):
        raise Conflict(message("backup_target_migrated", found=found,
                               revision=manifest.revision))


async def _postgres_restore(url: str, database: Database, manifest: Manifest,
                            folder: Path) -> None:
    await upgrade(database, manifest.revision or "head")
    conn = await asyncpg.connect(postgres_dump.asyncpg_dsn(url))
    try:
        async with conn.transaction():
            await postgres_dump.copy_in(conn, folder / "rows")
    except asyncpg.PostgresError as exc:
        raise LoomError(message("backup_restore_failed", reason=str(exc))) from exc
    finally:
        await conn.close()
    dump = folder / DATABASE_MEMBER["postgresql"]
    if manifest.schemas:
        await postgres_dump.restore_schemas(url, dump)
