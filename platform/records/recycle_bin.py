"""The recycle bin: every delete keeps what it removed — the record, the records it
cascaded to, the references it cleared — for ``LOOM_RECYCLE_DAYS`` (default 30), so an
administrator or a builder of the app can restore it (``restore.py``). The worker purges
what is older. Written in the transaction of the delete itself."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.field_values.coercion import to_json
from loom.metamodel.i18n import localize
from loom.platform.compiled.app import AppRuntime
from loom.platform.records.removal import Removal, effects_json
from loom.platform.security.actors import Actor
from loom.platform.storage.system_tables import recycle_bin, users

if TYPE_CHECKING:
    from loom.platform.services import Services

MAX_LIMIT = 500


async def keep(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, removal: Removal,
               now: datetime) -> int:
    """Put what ``removal`` took away in the bin; its id."""
    top = next(row for entity, row in removal.rows
               if (entity, row["id"]) == (removal.entity, removal.record_id))
    title_field = runtime.entity(removal.entity).title()
    title = top.get(title_field) if title_field else None
    deletes = Counter(entity for entity, row in removal.rows if row is not top)
    clears = Counter(f"{entity}.{name}" for entity, name, _id, _old in removal.cleared)
    payload = {"rows": [{"entity": entity, "row": {name: to_json(value)
                                                   for name, value in row.items()}}
                        for entity, row in removal.rows],
               "cleared": [{"entity": entity, "field": name, "id": record_id, "value": old}
                           for entity, name, record_id, old in removal.cleared]}
    result = await conn.execute(insert(recycle_bin).returning(recycle_bin.c.id).values(
        workspace_id=runtime.workspace_id, app_id=runtime.app_id, entity=removal.entity,
        record_id=removal.record_id, title=str(title) if title is not None else None,
        app_version=runtime.version, deleted_at=now, deleted_by=actor.user_id,
        summary={"deletes": dict(deletes), "clears": dict(clears)}, payload=payload))
    removal.recycle_bin_id = int(result.scalar_one())
    return removal.recycle_bin_id


def oldest_kept(now: datetime, days: int) -> datetime:
    """Items deleted before this moment are past the retention period."""
    return now - timedelta(days=days)


async def list_items(conn: AsyncConnection, runtime: AppRuntime, *, now: datetime, days: int,
                     locale: str, entity: str | None = None, limit: int = 100,
                     before: int | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """The app's restorable items, newest first, and the cursor of the next page."""
    limit = max(1, min(limit, MAX_LIMIT))
    query = (select(recycle_bin, users.c.name.label("deleted_by_name"))
             .outerjoin(users, users.c.id == recycle_bin.c.deleted_by)
             .where(recycle_bin.c.app_id == runtime.app_id,
                    recycle_bin.c.restored_at.is_(None),
                    recycle_bin.c.deleted_at >= oldest_kept(now, days))
             .order_by(recycle_bin.c.id.desc()).limit(limit + 1))
    if entity is not None:
        runtime.entity(entity)  # an unknown entity is a 404, not an empty list
        query = query.where(recycle_bin.c.entity == entity)
    if before is not None:
        query = query.where(recycle_bin.c.id < before)
    rows = (await conn.execute(query)).mappings().all()
    items = [_item(runtime, row, days, locale) for row in rows[:limit]]
    return items, (items[-1]["id"] if len(rows) > limit else None)


def _item(runtime: AppRuntime, row: Any, days: int, locale: str) -> dict[str, Any]:
    spec = runtime.doc.entities.get(row["entity"])
    summary = row["summary"]
    clears = Counter({tuple(key.split(".", 1)): count
                      for key, count in summary.get("clears", {}).items()})
    return {"id": row["id"], "entity": row["entity"],
            "entity_label": localize(spec.label, locale) if spec else row["entity"],
            "record_id": row["record_id"], "title": row["title"],
            "deleted_at": to_json(row["deleted_at"]),
            "deleted_by": {"id": row["deleted_by"], "name": row["deleted_by_name"]}
            if row["deleted_by"] is not None else None,
            "expires_at": to_json(row["deleted_at"] + timedelta(days=days)),
            **effects_json(runtime, locale, Counter(summary.get("deletes", {})), clears)}


async def purge(conn: AsyncConnection, before: datetime) -> int:
    """Forget what was deleted before ``before``; how many items went."""
    result = await conn.execute(delete(recycle_bin).where(recycle_bin.c.deleted_at < before))
    return result.rowcount or 0


async def sweep_recycle_bin(services: Services, as_of: datetime) -> int:
    """The worker's duty: purge every app's bin past the retention period."""
    async with services.database.write() as conn:
        return await purge(conn, oldest_kept(as_of, services.settings.recycle_days))
