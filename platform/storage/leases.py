"""Leasing due work (outbox deliveries, timers) to one worker at a time: the rows are
claimed for a while, so another worker skips them, and a crashed worker's lease runs out.
On PostgreSQL the claim skips rows other workers hold (SKIP LOCKED); SQLite serialises
writers anyway."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement


async def lease_due(conn: AsyncConnection, table: Table, due: ColumnElement[bool],
                    order: list[Any], as_of: datetime, lease: timedelta, limit: int,
                    **claimed: Any) -> list[dict[str, Any]]:
    """Claim up to ``limit`` rows where ``due`` holds and no lease runs at ``as_of``; the
    claimed rows get ``claimed_until`` and the ``claimed`` column values, and come back in
    ``order`` (work is done in the order it fell due)."""
    query = (select(table.c.id).where(due, or_(table.c.claimed_until.is_(None),
                                               table.c.claimed_until < as_of))
             .order_by(*order).limit(limit))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list((await conn.execute(query)).scalars())
    if not ids:
        return []
    await conn.execute(update(table).where(table.c.id.in_(ids))
                       .values(claimed_until=as_of + lease, **claimed))
    rows = await conn.execute(select(table).where(table.c.id.in_(ids)).order_by(*order))
    return [dict(row) for row in rows.mappings()]


async def release(conn: AsyncConnection, table: Table, ids: list[int]) -> None:
    """Give back rows claimed but not worked on (a worker stopping): another worker takes
    them at once instead of when the lease would have run out."""
    if ids:
        await conn.execute(update(table).where(table.c.id.in_(ids)).values(claimed_until=None))
