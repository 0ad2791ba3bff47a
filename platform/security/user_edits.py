"""Changing a user: name, manager, department, language, administrator rights, active.

Administrators cannot lock themselves out (take their own admin rights or deactivate
themselves), and a manager chain never runs in a circle — approvals that go "N levels up"
rely on it ending.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import Conflict, Problem, ValidationFailed
from loom.metamodel.i18n import message, register_messages
from loom.platform.clock import Clock
from loom.platform.security import trail
from loom.platform.security.actors import Actor
from loom.platform.security.departures import set_active, set_inactive
from loom.platform.security.users import ensure_department, get_user, text_problems
from loom.platform.storage.system_tables import users

EDITABLE = ("name", "manager", "department", "locale", "is_admin", "active")

register_messages({
    "user_not_changed": {"en": "The user was not changed", "zh-CN": "未能修改该用户"},
    "user_own_admin": {
        "en": "You cannot take away your own administrator rights; ask another administrator",
        "zh-CN": "不能取消自己的管理员权限，请联系其他管理员",
    },
    "manager_self": {"en": "A user cannot be their own manager", "zh-CN": "用户不能是自己的上级"},
    "manager_circle": {
        "en": "{email} already reports to this user (directly or not): a circle",
        "zh-CN": "{email} 已直接或间接向该用户汇报，不能形成循环",
    },
    "manager_unknown": {"en": "There is no active user {email}",
                        "zh-CN": "不存在有效用户 {email}"},
})


async def update_user(conn: AsyncConnection, actor: Actor, user_id: int,
                      changes: dict[str, Any], clock: Clock) -> dict[str, Any]:
    """Apply ``changes`` (only the fields given; None clears manager, department, locale)."""
    before = await get_user(conn, actor.workspace_id, user_id)  # 404 for other workspaces

    if user_id == actor.user_id and (changes.get("is_admin") is False
                                     or changes.get("active") is False):
        raise Conflict(message("deactivate_self") if changes.get("active") is False
                       else message("user_own_admin"))
    problems = text_problems({k: v for k, v in changes.items()
                              if k in ("name", "manager", "department", "locale")})
    if problems:
        raise ValidationFailed(message("user_not_changed"), problems)
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = changes["name"].strip()
    if "locale" in changes:
        values["locale"] = changes["locale"] or None
    if "is_admin" in changes:
        values["is_admin"] = bool(changes["is_admin"])
    if "manager" in changes:
        values["manager_id"] = await _manager_id(conn, actor, user_id, changes["manager"])
    if "department" in changes:
        name = (changes["department"] or "").strip()
        values["department_id"] = await ensure_department(
            conn, actor.workspace_id, name, clock) if name else None
    if values:
        await conn.execute(update(users).where(users.c.id == user_id).values(**values))
    if changes.get("active") is False:
        await set_inactive(conn, user_id, clock.now())
    elif changes.get("active") is True:
        await set_active(conn, user_id)
    after = await get_user(conn, actor.workspace_id, user_id)
    changed = trail.person_changes(before, after)
    if changed:
        await trail.note(conn, actor.workspace_id, actor, "user_changed", user_id,
                         clock.now(), changed)
    return after


async def _manager_id(conn: AsyncConnection, actor: Actor, user_id: int,
                      email: str | None) -> int | None:
    if not email:
        return None
    email = email.strip().lower()
    manager = await conn.scalar(select(users.c.id).where(
        users.c.email == email, users.c.workspace_id == actor.workspace_id,
        users.c.active.is_(True)))
    refusal = None
    if manager is None:
        refusal = message("manager_unknown", email=email)
    elif manager == user_id:
        refusal = message("manager_self")
    elif await _reports_to(conn, manager, user_id):
        refusal = message("manager_circle", email=email)
    if refusal is not None:
        raise ValidationFailed(message("user_not_changed"), [Problem("manager", refusal)])
    return manager


async def _reports_to(conn: AsyncConnection, user_id: int, boss: int) -> bool:
    """Is ``boss`` somewhere above ``user_id`` in the manager chain?"""
    seen: set[int] = set()
    current: int | None = user_id
    while current is not None and current not in seen:
        seen.add(current)
        current = await conn.scalar(select(users.c.manager_id).where(users.c.id == current))
        if current == boss:
            return True
    return False
