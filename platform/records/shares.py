"""Sharing one record with one user, beyond what their roles reach: to read it, or to read
and change it. Whoever may change a record may share it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import NotFound, Problem, ValidationFailed
from loom.metamodel.i18n import message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.records.audit import SHARE_KEY, write_audit
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import authorize, require_reach
from loom.platform.storage.system_tables import record_shares, users

register_messages({
    "share_unknown_user": {"en": "There is no user {email} in this workspace",
                           "zh-CN": "本工作区没有用户 {email}"},
    "share_not_found": {"en": "The record is not shared with user {id}",
                        "zh-CN": "该记录未共享给用户 {id}"},
})


async def _may_share(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, entity: str,
                     record_id: int, now: datetime) -> None:
    access = await authorize(conn, actor, runtime, entity, "update")
    await require_reach(conn, runtime, actor, access, entity, record_id, "update", now)


async def shares_of(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, entity: str,
                    record_id: int, now: datetime) -> list[dict[str, Any]]:
    await _may_share(conn, runtime, actor, entity, record_id, now)
    rows = await conn.execute(
        select(record_shares.c.user_id, users.c.email, users.c.name, record_shares.c.access,
               record_shares.c.shared_at)
        .join(users, users.c.id == record_shares.c.user_id)
        .where(record_shares.c.app_id == runtime.app_id, record_shares.c.entity == entity,
               record_shares.c.record_id == record_id).order_by(users.c.email))
    return [dict(row) for row in rows.mappings()]


async def share(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, entity: str,
                record_id: int, email: str, access: Literal["read", "write"],
                now: datetime) -> None:
    await _may_share(conn, runtime, actor, entity, record_id, now)
    user_id = await conn.scalar(select(users.c.id).where(
        users.c.workspace_id == actor.workspace_id, users.c.email == email.strip().lower()))
    if user_id is None:
        text = message("share_unknown_user", email=email)
        raise ValidationFailed(text, [Problem("user", text, code="unknown_user")])
    key = (record_shares.c.app_id == runtime.app_id, record_shares.c.entity == entity,
           record_shares.c.record_id == record_id, record_shares.c.user_id == user_id)
    before = await conn.scalar(select(record_shares.c.access).where(*key))
    if before == access:
        return
    if before is None:
        await conn.execute(insert(record_shares).values(
            app_id=runtime.app_id, entity=entity, record_id=record_id, user_id=user_id,
            access=access, shared_by=actor.user_id, shared_at=now))
    else:
        await conn.execute(update(record_shares).where(*key).values(
            access=access, shared_by=actor.user_id, shared_at=now))
    await _audit(conn, runtime, actor, entity, record_id, "share", now,
                 {SHARE_KEY: [f"{email}: {before}" if before else None, f"{email}: {access}"]})


async def unshare(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, entity: str,
                  record_id: int, user_id: int, now: datetime) -> None:
    await _may_share(conn, runtime, actor, entity, record_id, now)
    key = (record_shares.c.app_id == runtime.app_id, record_shares.c.entity == entity,
           record_shares.c.record_id == record_id, record_shares.c.user_id == user_id)
    found = (await conn.execute(select(record_shares.c.access, users.c.email)
                                .join(users, users.c.id == record_shares.c.user_id)
                                .where(*key))).first()
    if found is None:
        raise NotFound(message("share_not_found", id=user_id))
    await conn.execute(delete(record_shares).where(*key))
    await _audit(conn, runtime, actor, entity, record_id, "unshare", now,
                 {SHARE_KEY: [f"{found.email}: {found.access}", None]})


async def _audit(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, entity: str,
                 record_id: int, action: str, now: datetime,
                 changes: dict[str, list[Any]]) -> None:
    """Sharing changes who may see a record: it goes into the record's history."""
    table = runtime.tables[entity]
    version = await conn.scalar(select(table.c.version).where(table.c.id == record_id))
    await write_audit(conn, [{"app_id": runtime.app_id, "entity": entity,
                              "record_id": record_id, "action": action,
                              "version": version or 0, "actor_id": actor.user_id,
                              "source": actor.source, "at": now, "changes": changes}])
