"""Backups of the embedded database: SQLite's online backup API copies the file page by page
under one read lock, so the copy is the database as of one moment while the server goes on
writing (WAL mode: readers never block writers). A backup of one workspace then prunes the
private copy down to that workspace and vacuums it, so no other workspace's data stays in
free pages."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import create_engine, delete, not_, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from loom.platform.backup.scope import backed_up, platform_tables
from loom.platform.storage.system_tables import stored_files, workspaces

KEEP = ("sqlite_", "alembic_version")


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError("an in-memory database cannot be backed up or restored")
    return Path(database)


def online_copy(source: Path, target: Path) -> None:
    """Copy the live database at ``source`` to the new file ``target`` in one step."""
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
            closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        # the copy is one file (no write-ahead log beside it) for the archive
        dst.execute("PRAGMA journal_mode = DELETE")


def restore_copy(source: Path, target: Path) -> None:
    """Write the backed-up database ``source`` over the (empty) database ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = WAL")


@contextmanager
def open_copy(path: Path) -> Iterator[Connection]:
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def workspace_id(conn: Connection, slug: str) -> int | None:
    return conn.scalar(select(workspaces.c.id).where(workspaces.c.slug == slug))


def prune(conn: Connection, workspace: int | None, slug: str | None) -> None:
    """Remove from the copy what the backup does not hold: runtime state, and for a
    workspace's backup every other workspace (their platform rows, their tables)."""
    for table in reversed(platform_tables()):
        condition = backed_up(table, workspace)
        statement = delete(table)
        conn.execute(statement if condition is None else statement.where(not_(condition)))
    if slug is not None:
        mine = f"{slug}__"
        platform = {table.name for table in platform_tables()}
        for name in _table_names(conn):
            if name not in platform and not name.startswith(mine):
                conn.execute(text(f'DROP TABLE "{name}"'))
    conn.commit()
    conn.execute(text("VACUUM"))


def _table_names(conn: Connection) -> list[str]:
    rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
    return [name for (name,) in rows if not name.startswith(KEEP)]


def row_counts(conn: Connection) -> dict[str, int]:
    return {name: int(conn.scalar(text(f'SELECT count(*) FROM "{name}"')) or 0)
            for name in sorted(_table_names(conn))}


def revision(conn: Connection) -> str | None:
    return conn.scalar(text("SELECT version_num FROM alembic_version"))


def file_keys(conn: Connection) -> list[tuple[int, str]]:
    rows = conn.execute(select(stored_files.c.workspace_id, stored_files.c.key)
                        .order_by(stored_files.c.id))
    return [(int(ws), key) for ws, key in rows]
