"""The record audit trail: who changed which record, when, through which door, and each
field's old → new value. Written in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.forms.values import to_json
from loom.platform.records.context import WriteContext
from loom.platform.storage.system_tables import record_audit


def field_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
                  fields: list[str]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value differs."""
    before = before or {}
    after = after or {}
    return {name: [to_json(before.get(name)), to_json(after.get(name))] for name in fields
            if before.get(name) != after.get(name)}


def audit_row(ctx: WriteContext, record_id: int, version: int,
              changes: dict[str, list[Any]]) -> dict[str, Any]:
    return {"app_id": ctx.runtime.app_id, "entity": ctx.entity, "record_id": record_id,
            "action": ctx.operation, "version": version, "actor_id": ctx.actor.user_id,
            "source": ctx.actor.source, "at": ctx.now, "changes": changes}


async def write_audit(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(record_audit), rows)


async def record_history(conn: AsyncConnection, app_id: int, entity: str,
                         record_id: int) -> list[dict[str, Any]]:
    rows = (await conn.execute(
        select(record_audit).where(record_audit.c.app_id == app_id,
                                   record_audit.c.entity == entity,
                                   record_audit.c.record_id == record_id)
        .order_by(record_audit.c.id))).mappings().all()
    return [{"action": r["action"], "version": r["version"], "actor_id": r["actor_id"],
             "source": r["source"], "at": r["at"], "changes": r["changes"]} for r in rows]
