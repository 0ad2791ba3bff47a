"""The security trail of a workspace: who added or changed a person (old → new, rights and
deactivation included), issued or revoked an API token, changed or reset a password — when
and through which door. Append-only; no secret is ever written here (a token is named by
its id, name and scopes, a password only said to have changed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from loom.platform.security.actors import Actor, Source
from loom.platform.storage.system_tables import security_audit, users

Action = Literal["user_created", "user_changed", "user_deactivated", "token_issued",
                 "token_revoked", "password_changed", "password_reset"]
# the fields of a person whose changes are kept (describe_user's names)
WATCHED = ("email", "name", "manager", "department", "locale", "is_admin", "active")


async def note(conn: AsyncConnection, workspace_id: int, actor: Actor | None, action: Action,
               user_id: int | None, at: datetime, changes: dict[str, Any] | None = None, *,
               source: Source | None = None) -> None:
    """One entry. ``actor`` None: the command line or the platform itself (``source``)."""
    await conn.execute(insert(security_audit).values(
        workspace_id=workspace_id, at=at, actor_id=actor.user_id if actor else None,
        source=source or (actor.source if actor else "system"), action=action,
        user_id=user_id, changes=changes or {}))


def person_changes(before: dict[str, Any] | None,
                   after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` between two ``describe_user`` answers (None: a new person)."""
    return {name: [None if before is None else before.get(name), after.get(name)]
            for name in WATCHED
            if before is None or before.get(name) != after.get(name)}


async def trail_page(conn: AsyncConnection, workspace_id: int, *, user_id: int | None = None,
                     after: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Entries oldest first, from after ``after`` (an entry id), with the people's emails."""
    actor, subject = aliased(users), aliased(users)
    query = (select(security_audit, actor.c.email.label("actor_email"),
                    subject.c.email.label("user_email"))
             .outerjoin(actor, actor.c.id == security_audit.c.actor_id)
             .outerjoin(subject, subject.c.id == security_audit.c.user_id)
             .where(security_audit.c.workspace_id == workspace_id)
             .order_by(security_audit.c.id).limit(limit))
    if user_id is not None:
        query = query.where(security_audit.c.user_id == user_id)
    if after is not None:
        query = query.where(security_audit.c.id > after)
    rows = (await conn.execute(query)).mappings().all()
    return [{"id": row["id"], "at": row["at"], "action": row["action"],
             "actor_id": row["actor_id"], "actor_email": row["actor_email"],
             "source": row["source"], "user_id": row["user_id"],
             "user_email": row["user_email"], "changes": row["changes"]} for row in rows]
