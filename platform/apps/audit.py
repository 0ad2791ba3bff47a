"""The trail of metadata changes: who saved a draft, published, rolled back, imported,
upgraded or deleted an app, when, through which door, and what changed — item by item, in
the words of the readable diff. Append-only: nothing here updates or deletes a row."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.diff import Change
from loom.metamodel.i18n import LOCALES, pick_locale
from loom.platform.security.actors import Actor
from loom.platform.storage.system_tables import metadata_audit, users

Action = Literal["created", "draft_saved", "draft_discarded", "published", "rolled_back",
                 "imported", "upgrade_prepared", "deleted", "members_changed"]
PAGE = 50


def _stored(change: Change) -> dict[str, Any]:
    out = change.render()
    out["summary"] = {locale: change.message.render(locale) for locale in LOCALES}
    return out


async def record_change(conn: AsyncConnection, actor: Actor, *, app_id: int | None, slug: str,
                        action: Action, at: Any, changes: list[Change] | None = None,
                        version: int | None = None, draft_revision: int | None = None,
                        note: str | None = None) -> None:
    await conn.execute(insert(metadata_audit).values(
        workspace_id=actor.workspace_id, app_id=app_id, app_slug=slug, action=action,
        version=version, draft_revision=draft_revision, actor_id=actor.user_id,
        source=actor.source, at=at, message=note,
        changes=[_stored(change) for change in changes or []]))


async def audit_entries(conn: AsyncConnection, actor: Actor, slug: str, *, locale: str,
                        limit: int = PAGE, before: int | None = None) -> dict[str, Any]:
    """The app's trail, newest first, a page at a time (``before``: an entry id)."""
    query = (select(metadata_audit, users.c.email, users.c.name)
             .outerjoin(users, users.c.id == metadata_audit.c.actor_id)
             .where(metadata_audit.c.workspace_id == actor.workspace_id,
                    metadata_audit.c.app_slug == slug)
             .order_by(metadata_audit.c.id.desc()).limit(limit + 1))
    if before is not None:
        query = query.where(metadata_audit.c.id < before)
    rows = (await conn.execute(query)).mappings().all()
    items = [_entry(row, locale) for row in rows[:limit]]
    return {"items": items,
            "next_before": items[-1]["id"] if len(rows) > limit else None}


def _entry(row: Any, locale: str) -> dict[str, Any]:
    changes = []
    for change in row["changes"] or []:
        summary = change.get("summary") or {}
        changes.append({**change, "summary": summary.get(pick_locale(locale))
                        or next(iter(summary.values()), "")})
    actor = None if row["actor_id"] is None else {
        "id": row["actor_id"], "email": row["email"], "name": row["name"]}
    return {"id": row["id"], "at": row["at"], "action": row["action"],
            "version": row["version"], "draft_revision": row["draft_revision"],
            "actor": actor, "source": row["source"], "message": row["message"],
            "changes": changes}
