"""One record with its line items inline: the rows of each ``subtable`` field, as the
reader may see them. Lists leave them out; a single record (read, created, changed)
carries them, so a client can show and send back the whole document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import PermissionDenied
from loom.metamodel.fields import SUBTABLE_ROWS_MAX
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import environment
from loom.platform.records.reads import visible
from loom.platform.records.subtable_rows import subtables_of
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import authorize


async def with_rows(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, entity: str,
                    record: dict[str, Any], now: datetime) -> dict[str, Any]:
    """``record`` (as the reader sees it) with the rows of its subtable fields: the first
    SUBTABLE_ROWS_MAX by id, within the reader's reach of the child entity, hidden fields
    absent. A subtable is left out when the reader may not see it (the field hidden, the
    child entity not readable), and so is everything when they may not read the record."""
    subtables = subtables_of(runtime.entity(entity))
    if not subtables or "id" not in record:
        return record
    try:
        access = await authorize(conn, actor, runtime, entity, "read")
    except PermissionDenied:  # a role may create without reading
        return record
    out = dict(record)
    for name, field in subtables.items():
        child, link = field.entity or "", field.link_field or ""
        if not access.can_read(name):
            continue
        try:
            child_access = await authorize(conn, actor, runtime, child, "read")
        except PermissionDenied:
            continue
        table = runtime.tables[child]
        query = select(table).where(table.c[link] == record["id"])
        if child_access.rows is not None:
            query = query.where(child_access.rows.where(
                runtime, environment(runtime, actor, now), conn.dialect.name))
        rows = await conn.execute(query.order_by(table.c.id).limit(SUBTABLE_ROWS_MAX))
        spec = runtime.entity(child)
        out[name] = [visible(spec, child_access, dict(row)) for row in rows.mappings()]
    return out
