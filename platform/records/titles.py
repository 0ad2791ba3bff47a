"""The titles of records named elsewhere (a task's record, in an inbox): one query per
entity, through the same permission check as every read — a record beyond the reader's
reach, or whose title field they may not see, has no title for them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import PermissionDenied
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import environment
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import authorize


async def record_titles(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                        refs: Iterable[tuple[str, int]],
                        now: datetime) -> dict[tuple[str, int], str]:
    """``{(entity, id): title}`` of the records the reader may see the title of."""
    wanted: dict[str, set[int]] = {}
    for entity, record_id in refs:
        if entity in runtime.doc.entities:
            wanted.setdefault(entity, set()).add(record_id)
    titles: dict[tuple[str, int], str] = {}
    env = environment(runtime, actor, now)
    for entity, ids in wanted.items():
        title = runtime.entity(entity).title()
        if title is None:
            continue
        try:
            access = await authorize(conn, actor, runtime, entity, "read")
        except PermissionDenied:
            continue
        if not access.can_read(title):
            continue
        table = runtime.tables[entity]
        where = table.c.id.in_(sorted(ids))
        if access.rows is not None:
            where = and_(where, access.rows.where(runtime, env, conn.dialect.name))
        for row in await conn.execute(select(table.c.id, table.c[title]).where(where)):
            if row[1] is not None:
                titles[(entity, row[0])] = str(row[1])
    return titles
