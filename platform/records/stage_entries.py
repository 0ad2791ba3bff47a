"""The stage entries of records (``stage_entries``): when a record entered and left each
stage of a stage-path field, and when its time limit there falls due. Written by the
write pipeline's stage hook in the transaction of the change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.platform.storage.system_tables import stage_entries


async def enter_stage(conn: AsyncConnection, *, app_id: int, entity: str, record_id: int,
                      field: str, value: str | None, now: datetime, user_id: int | None,
                      due_at: datetime | None) -> None:
    """Close the record's open entry on ``field`` and, when it has a stage, open one."""
    await conn.execute(update(stage_entries).where(
        stage_entries.c.app_id == app_id, stage_entries.c.entity == entity,
        stage_entries.c.record_id == record_id, stage_entries.c.field == field,
        stage_entries.c.left_at.is_(None)).values(left_at=now))
    if value is not None:
        await conn.execute(insert(stage_entries).values(
            app_id=app_id, entity=entity, record_id=record_id, field=field, value=value,
            entered_at=now, entered_by=user_id, due_at=due_at))


async def forget_record(conn: AsyncConnection, app_id: int, entity: str,
                        record_id: int) -> None:
    """A deleted record's entries go with it."""
    await conn.execute(delete(stage_entries).where(
        stage_entries.c.app_id == app_id, stage_entries.c.entity == entity,
        stage_entries.c.record_id == record_id))


async def record_entries(conn: AsyncConnection, app_id: int, entity: str, record_id: int,
                         fields: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """A record's entries per field, oldest first."""
    rows = await conn.execute(select(stage_entries).where(
        stage_entries.c.app_id == app_id, stage_entries.c.entity == entity,
        stage_entries.c.record_id == record_id,
        stage_entries.c.field.in_(sorted(fields))).order_by(stage_entries.c.id))
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows.mappings():
        found.setdefault(row["field"], []).append(dict(row))
    return found


async def due_entries(conn: AsyncConnection, as_of: datetime, *, skip: Iterable[int] = (),
                      limit: int = 200) -> list[dict[str, Any]]:
    """Open entries whose time limit has passed and whose owner was not yet reminded
    (but those of ``skip``)."""
    query = select(stage_entries).where(
        stage_entries.c.reminded_at.is_(None), stage_entries.c.left_at.is_(None),
        stage_entries.c.due_at <= as_of)
    if skip:
        query = query.where(stage_entries.c.id.not_in(sorted(skip)))
    rows = await conn.execute(query.order_by(stage_entries.c.due_at, stage_entries.c.id)
                              .limit(limit))
    return [dict(row) for row in rows.mappings()]


async def mark_reminded(conn: AsyncConnection, entry_id: int, as_of: datetime) -> bool:
    """Take the reminder of one entry; False when it was taken already (another worker)
    or the record left the stage since."""
    result = await conn.execute(update(stage_entries).where(
        stage_entries.c.id == entry_id, stage_entries.c.reminded_at.is_(None),
        stage_entries.c.left_at.is_(None)).values(reminded_at=as_of)
        .returning(stage_entries.c.id))
    return result.first() is not None
