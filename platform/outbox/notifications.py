"""In-app notifications: rows in the recipient's inbox, written in the transaction of the
change that caused them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import NotFound
from loom.platform.storage.system_tables import notifications


async def notify(conn: AsyncConnection, *, workspace_id: int, user_ids: Iterable[int],
                 title: str, body: str | None, now: datetime, app_id: int | None = None,
                 entity: str | None = None, record_id: int | None = None) -> int:
    rows = [{"workspace_id": workspace_id, "user_id": user_id, "app_id": app_id,
             "title": title, "body": body, "entity": entity, "record_id": record_id,
             "created_at": now} for user_id in sorted(set(user_ids))]
    if rows:
        await conn.execute(insert(notifications), rows)
    return len(rows)


async def inbox(conn: AsyncConnection, user_id: int, *, unread_only: bool = False,
                limit: int = 100) -> list[dict[str, Any]]:
    query = select(notifications).where(notifications.c.user_id == user_id)
    if unread_only:
        query = query.where(notifications.c.read_at.is_(None))
    rows = await conn.execute(query.order_by(notifications.c.id.desc()).limit(limit))
    return [{"id": r["id"], "title": r["title"], "body": r["body"], "app_id": r["app_id"],
             "entity": r["entity"], "record_id": r["record_id"],
             "created_at": r["created_at"], "read_at": r["read_at"]}
            for r in rows.mappings()]


async def mark_read(conn: AsyncConnection, user_id: int, notification_id: int,
                    now: datetime) -> None:
    result = await conn.execute(update(notifications).where(
        notifications.c.id == notification_id, notifications.c.user_id == user_id)
        .values(read_at=now))
    if result.rowcount == 0:
        raise NotFound(f"There is no notification {notification_id}")
