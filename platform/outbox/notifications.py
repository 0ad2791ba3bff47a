"""In-app notifications: rows in the recipient's inbox, written in the transaction of the
change that caused them. Their texts are kept for any language (``stored_text``) and read
in the reader's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import NotFound
from loom.metamodel.i18n import LOCALES, render_text, stored_text
from loom.platform.storage.system_tables import notifications, users


async def saved_locales(conn: AsyncConnection, user_ids: Iterable[int]) -> dict[int, str]:
    """The language each of these users chose (users who chose none are left out)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    rows = await conn.execute(select(users.c.id, users.c.locale).where(
        users.c.id.in_(wanted), users.c.locale.in_(LOCALES)))
    return {user_id: locale for user_id, locale in rows.all()}


async def notify(conn: AsyncConnection, *, workspace_id: int, user_ids: Iterable[int],
                 title: Any, body: Any, now: datetime, locale: str,
                 app_id: int | None = None, entity: str | None = None,
                 record_id: int | None = None) -> int:
    """One notification per user. ``title`` and ``body`` are plain or localized texts or
    Messages; ``locale`` is the language of recipients who chose none."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return 0
    texts = {"title": stored_text(title), "body": stored_text(body)}
    chosen = await saved_locales(conn, wanted)
    rows = []
    for user_id in wanted:
        language = chosen.get(user_id, locale)
        rows.append({"workspace_id": workspace_id, "user_id": user_id, "app_id": app_id,
                     "title": render_text(texts["title"], language),
                     "body": render_text(texts["body"], language) if body is not None
                     else None, "texts": texts, "entity": entity, "record_id": record_id,
                     "created_at": now})
    await conn.execute(insert(notifications), rows)
    return len(rows)


async def inbox(conn: AsyncConnection, user_id: int, locale: str, *,
                unread_only: bool = False, limit: int = 100) -> list[dict[str, Any]]:
    """The user's notifications, newest first, in ``locale``."""
    query = select(notifications).where(notifications.c.user_id == user_id)
    if unread_only:
        query = query.where(notifications.c.read_at.is_(None))
    rows = await conn.execute(query.order_by(notifications.c.id.desc()).limit(limit))
    return [{"id": r["id"], **shown_texts(r, ("title", "body"), locale),
             "app_id": r["app_id"], "entity": r["entity"], "record_id": r["record_id"],
             "created_at": r["created_at"], "read_at": r["read_at"]}
            for r in rows.mappings()]


def shown_texts(row: Any, names: tuple[str, ...], locale: str) -> dict[str, str | None]:
    """The row's texts in ``locale``; rows written before texts were kept show their
    columns as written."""
    texts = row["texts"] or {}
    return {name: render_text(texts[name], locale) if texts.get(name) is not None
            else row[name] for name in names}


async def mark_read(conn: AsyncConnection, user_id: int, notification_id: int,
                    now: datetime) -> None:
    result = await conn.execute(update(notifications).where(
        notifications.c.id == notification_id, notifications.c.user_id == user_id)
        .values(read_at=now))
    if result.rowcount == 0:
        raise NotFound(f"There is no notification {notification_id}")
