"""The record audit trail: who changed which record, when, through which door, and each
field's old → new value. Written in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.field_values.coercion import to_json
from loom.platform import metrics
from loom.platform.records.context import WriteContext
from loom.platform.storage.system_tables import record_audit

# The "field" of a sharing change in the history (not a field of the entity).
SHARE_KEY = "$shared_with"


def field_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
                  fields: list[str]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value differs."""
    if before is None and after is not None:  # a new record: every value it has
        # (``None != value`` would ask each Decimal whether None is a Rational: slow)
        return {name: [None, to_json(value)] for name in fields
                if (value := after.get(name)) is not None}
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
        for row in rows:  # every save writes its audit row: the one place to count saves
            metrics.record_saves.labels(row["action"], row["source"]).inc()


async def record_history(conn: AsyncConnection, app_id: int, entity: str,
                         record_id: int) -> list[dict[str, Any]]:
    rows = (await conn.execute(
        select(record_audit).where(record_audit.c.app_id == app_id,
                                   record_audit.c.entity == entity,
                                   record_audit.c.record_id == record_id)
        .order_by(record_audit.c.id))).mappings().all()
    return [{"action": r["action"], "version": r["version"], "actor_id": r["actor_id"],
             "source": r["source"], "at": r["at"], "changes": r["changes"]} for r in rows]


async def audit_page(conn: AsyncConnection, app_id: int, *, entity: str | None = None,
                     record_id: int | None = None, since: Any = None, until: Any = None,
                     after: int | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """A page of the app's record trail in the order it was written, with actor emails."""
    from loom.platform.storage.system_tables import users

    query = (select(record_audit, users.c.email.label("actor_email"))
             .outerjoin(users, users.c.id == record_audit.c.actor_id)
             .where(record_audit.c.app_id == app_id).order_by(record_audit.c.id).limit(limit))
    if entity is not None:
        query = query.where(record_audit.c.entity == entity)
    if record_id is not None:
        query = query.where(record_audit.c.record_id == record_id)
    if since is not None:
        query = query.where(record_audit.c.at >= since)
    if until is not None:
        query = query.where(record_audit.c.at < until)
    if after is not None:
        query = query.where(record_audit.c.id > after)
    rows = (await conn.execute(query)).mappings().all()
    return [{"id": r["id"], "at": r["at"], "entity": r["entity"], "record_id": r["record_id"],
             "action": r["action"], "version": r["version"], "actor_id": r["actor_id"],
             "actor_email": r["actor_email"], "source": r["source"], "changes": r["changes"]}
            for r in rows]
