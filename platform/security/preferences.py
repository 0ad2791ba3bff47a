"""A person's preferences, by key (``grid/crm/view/my_leads``: a list's columns, widths and
sort): small JSON values only they read and write."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import NotFound, PayloadTooLarge, Problem, ValidationFailed
from loom.metamodel.i18n import message, register_messages
from loom.platform.clock import Clock
from loom.platform.storage.database import json_dumps
from loom.platform.storage.system_tables import user_preferences

KEY = re.compile(r"^[A-Za-z0-9_.:/-]{1,200}$")
MAX_VALUE_BYTES = 64 * 1024
MAX_KEYS = 500

register_messages({
    "preference_bad_key": {
        "en": "A preference key is 1–200 letters, digits and _ . : / -, not '{name}'",
        "zh-CN": "偏好键须为 1–200 个字母、数字或 _ . : / -，而不是“{name}”"},
    "preference_too_large": {"en": "A preference may hold at most {max} bytes",
                             "zh-CN": "单项偏好最多 {max} 字节"},
    "preference_too_many": {"en": "A person may keep at most {max} preferences",
                            "zh-CN": "每人最多保存 {max} 项偏好"},
    "preference_not_found": {"en": "You have no preference '{name}'",
                             "zh-CN": "您没有名为“{name}”的偏好"},
})


def _checked_key(key: str) -> str:
    if not KEY.match(key):
        why = message("preference_bad_key", name=key[:60])
        raise ValidationFailed(why, [Problem("key", why)])
    return key


async def get_preference(conn: AsyncConnection, user_id: int, key: str) -> Any:
    value = await conn.scalar(select(user_preferences.c.value).where(
        user_preferences.c.user_id == user_id, user_preferences.c.key == _checked_key(key)))
    if value is None:
        raise NotFound(message("preference_not_found", name=key))
    return value


async def list_preferences(conn: AsyncConnection, user_id: int,
                           prefix: str = "") -> dict[str, Any]:
    query = select(user_preferences.c.key, user_preferences.c.value).where(
        user_preferences.c.user_id == user_id)
    if prefix:
        query = query.where(user_preferences.c.key.startswith(prefix, autoescape=True))
    return {row.key: row.value for row in await conn.execute(query.order_by(
        user_preferences.c.key))}


async def set_preference(conn: AsyncConnection, user_id: int, key: str, value: Any,
                         clock: Clock) -> None:
    _checked_key(key)
    if len(json_dumps(value).encode()) > MAX_VALUE_BYTES:
        raise PayloadTooLarge(message("preference_too_large", max=MAX_VALUE_BYTES))
    where = (user_preferences.c.user_id == user_id, user_preferences.c.key == key)
    changed = await conn.execute(update(user_preferences).where(*where).values(
        value=value, updated_at=clock.now()))
    if changed.rowcount:
        return
    kept = len(await list_preferences(conn, user_id))
    if kept >= MAX_KEYS:
        why = message("preference_too_many", max=MAX_KEYS)
        raise ValidationFailed(why, [Problem("key", why)])
    await conn.execute(insert(user_preferences).values(user_id=user_id, key=key, value=value,
                                                       updated_at=clock.now()))


async def delete_preference(conn: AsyncConnection, user_id: int, key: str) -> None:
    await conn.execute(delete(user_preferences).where(
        user_preferences.c.user_id == user_id, user_preferences.c.key == _checked_key(key)))
