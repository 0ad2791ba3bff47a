"""Departed users: deactivated (they can no longer sign in, every token and reset link of
theirs stops working at once), with their open work handed to a successor.

What is handed over is a list of reassigners the caller passes in, each moving one kind of
work and saying how much it moved: open tasks (``platform/inbox/reassign.py``); the records
they own in the apps are moved by ``platform/records/handover.py`` through the write
pipeline, once the deactivation has committed (in short transactions, or as an operation
when they are many).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import Conflict, Problem, ValidationFailed
from loom.metamodel.i18n import message, register_messages
from loom.platform.security import trail
from loom.platform.security.actors import Actor
from loom.platform.security.resets import void_resets
from loom.platform.security.tokens import revoke_user_tokens
from loom.platform.security.users import get_user
from loom.platform.storage.system_tables import users

register_messages({
    "deactivate_self": {"en": "You cannot deactivate yourself; ask another administrator",
                        "zh-CN": "不能停用自己的账户，请联系其他管理员"},
    "reassign_no_user": {"en": "There is no active user {email} to hand the work to",
                         "zh-CN": "不存在可接手工作的有效用户 {email}"},
    "reassign_same": {"en": "The work cannot be handed to the user who leaves",
                      "zh-CN": "不能将工作转交给要停用的用户本人"},
    "deactivate_failed": {"en": "The user was not deactivated", "zh-CN": "未能停用该用户"},
})

# (conn, acting admin, departing user id, successor id, now) -> how many items moved
Reassigner = Callable[[AsyncConnection, Actor, int, int, datetime], Awaitable[int]]


async def successor_id(conn: AsyncConnection, actor: Actor, email: str,
                       leaving: int) -> int:
    """The active user of the actor's workspace who takes over (by email)."""
    found = None if "\x00" in email else (await conn.execute(select(users.c.id).where(
        users.c.email == email.strip().lower(), users.c.workspace_id == actor.workspace_id,
        users.c.active.is_(True)))).scalar()
    problem = None
    if found is None:
        problem = message("reassign_no_user", email=email)
    elif found == leaving:
        problem = message("reassign_same")
    if problem is not None:
        raise ValidationFailed(message("deactivate_failed"), [Problem("reassign_to", problem)])
    return found


async def deactivate_user(conn: AsyncConnection, actor: Actor, user_id: int, now: datetime,
                          *, reassign_to: str | None = None,
                          reassigners: Mapping[str, Reassigner],
                          ) -> dict[str, Any]:
    """Deactivate a user of the actor's workspace, revoke their tokens and reset links, and
    hand their open work to ``reassign_to``. Returns the user and what was handed over."""
    before = await get_user(conn, actor.workspace_id, user_id)  # 404: other workspaces
    if user_id == actor.user_id:
        raise Conflict(message("deactivate_self"))
    successor = await successor_id(conn, actor, reassign_to, user_id) if reassign_to \
        else None
    await set_inactive(conn, user_id, now)
    handed: dict[str, int] = {}
    if successor is not None:
        for name, reassign in reassigners.items():
            handed[name] = await reassign(conn, actor, user_id, successor, now)
    result = {"user": await get_user(conn, actor.workspace_id, user_id),
              "reassigned_to": reassign_to.strip().lower() if reassign_to else None,
              "reassigned": handed}
    await trail.note(conn, actor.workspace_id, actor, "user_deactivated", user_id, now, {
        "active": [before["active"], False], "reassigned_to": [None, result["reassigned_to"]],
        **{f"reassigned_{name}": [None, count] for name, count in handed.items()}})
    return result


async def set_inactive(conn: AsyncConnection, user_id: int, now: datetime) -> None:
    """The account stops working now: no sign-in, no token, no reset link."""
    await conn.execute(update(users).where(users.c.id == user_id, users.c.active.is_(True))
                       .values(active=False, deactivated_at=now))
    await revoke_user_tokens(conn, user_id, now)
    await void_resets(conn, user_id, now)


async def set_active(conn: AsyncConnection, user_id: int) -> None:
    await conn.execute(update(users).where(users.c.id == user_id)
                       .values(active=True, deactivated_at=None))
