"""Which rows of the platform's tables belong to one workspace.

Every platform table reaches the workspace it belongs to through a chain of foreign keys
(``apps.workspace_id``, ``metadata_versions.app_id`` → ``apps``, ``flow_history.instance_id``
→ ``flow_instances`` …). The chain is read from the table definitions, so a new table is
scoped without a word here; a table with no chain is global (``login_throttle``: counts of
failed sign-ins) and belongs to a backup of the whole database only. Runtime state
(``worker_heartbeats``: the processes running now) is in no backup. Entity tables are a
workspace's by name (PostgreSQL: its schema; SQLite: its table-name prefix).
"""

from __future__ import annotations

from sqlalchemy import Table, select
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.expression import true

from loom.platform.storage.system_tables import system_metadata, worker_heartbeats, workspaces

RUNTIME_STATE = {worker_heartbeats.name}


def platform_tables() -> list[Table]:
    """The platform's tables, parents before children (the order rows can be inserted)."""
    return list(system_metadata.sorted_tables)


def backed_up(table: Table, workspace_id: int | None) -> ColumnElement[bool] | None:
    """The rows of ``table`` a backup of the workspace (None: of everything) holds; None
    when it holds none."""
    if table.name in RUNTIME_STATE:
        return None
    if workspace_id is None:
        return true()
    return workspace_condition(table, workspace_id)


def workspace_condition(table: Table, workspace_id: int) -> ColumnElement[bool] | None:
    """The rows of ``table`` that belong to the workspace; None when the table is global."""
    return _condition(table, workspace_id, frozenset())


def _condition(table: Table, workspace_id: int,
               seen: frozenset[str]) -> ColumnElement[bool] | None:
    if table is workspaces:
        return table.c.id == workspace_id
    if "workspace_id" in table.c:
        return table.c.workspace_id == workspace_id
    # through the first non-nullable reference that leads to the workspace (a nullable one,
    # such as ``metadata_audit.app_id``, may be empty for rows that still belong)
    for column in sorted(table.c, key=lambda c: (c.nullable, c.name)):
        for key in column.foreign_keys:
            parent = key.column.table
            if parent is table or parent.name in seen or column.nullable:
                continue
            inner = _condition(parent, workspace_id, seen | {table.name})
            if inner is not None:
                return column.in_(select(key.column).where(inner))
    return None
