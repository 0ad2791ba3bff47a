"""A person's saved views: a list as they like it — its base (all records of an entity, or
one of the app's views), their filter, sort and columns — kept under a name of their own.

What is saved is checked as the list itself would check it when opened: the filter is the
reader's own (so it may not read a field hidden from them), the sort and columns name
fields they may see. Builders may share a saved view with everyone: it becomes a view of
the app's metadata, published like any other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.query.keyset import parse_sort
from loom.metamodel.entity import SYSTEM_FIELDS
from loom.metamodel.errors import NotFound, Problem, ValidationFailed
from loom.metamodel.fields import ApiName
from loom.metamodel.i18n import message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import environment, filter_clause
from loom.platform.records.search import MAX_SEARCH
from loom.platform.records.views import view_of
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import authorize
from loom.platform.storage.system_tables import saved_views

MAX_SAVED = 200

register_messages({
    "saved_view_not_found": {"en": "You have no saved view {id}",
                             "zh-CN": "您没有编号为 {id} 的已保存视图"},
    "saved_view_bad_base": {
        "en": "A saved view is based on 'entity:<name>' or 'view:<name>', not '{base}'",
        "zh-CN": "已保存视图须基于“entity:<名称>”或“view:<名称>”，而不是“{base}”"},
    "saved_view_unknown_column": {"en": "'{name}' is not a field you may see in {entity}",
                                  "zh-CN": "“{name}”不是您在{entity}中可见的字段"},
    "saved_view_too_many": {"en": "You may keep at most {max} saved views in an app",
                            "zh-CN": "每个应用最多保存 {max} 个视图"},
    "saved_view_invalid": {"en": "The view cannot be saved as it is",
                           "zh-CN": "视图内容有误，无法保存"},
})


class SavedViewIn(BaseModel):
    """What a person saves: a name, the list it narrows, and how they like it."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1, max_length=200)
    base: str = Field(max_length=100, description="entity:<name> or view:<name>")
    filter: dict[str, Any] | None = Field(default=None, description="JSON Logic")
    sort: str | None = Field(default=None, max_length=400)
    columns: list[ApiName] | None = Field(default=None, max_length=60)
    q: str | None = Field(default=None, max_length=MAX_SEARCH)


def _entity_of(runtime: AppRuntime, actor: Actor, base: str) -> str:
    kind, _, name = base.partition(":")
    if kind == "entity" and name in runtime.doc.entities:
        return name
    if kind == "view" and name:
        return view_of(runtime, actor, name).entity  # a view not theirs does not exist
    why = message("saved_view_bad_base", base=base)
    raise ValidationFailed(why, [Problem("base", why)])


async def _checked(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                   body: SavedViewIn, now: datetime) -> dict[str, Any]:
    """The definition to keep, checked as opening the list would check it."""
    entity = _entity_of(runtime, actor, body.base)
    access = await authorize(conn, actor, runtime, entity, "read")
    spec = runtime.entity(entity)
    env = environment(runtime, actor, now)
    filter_clause(runtime, entity, body.filter, env, dialect=conn.dialect.name, access=access)
    access.require_readable(runtime, entity, [key.field for key in parse_sort(body.sort,
                                                                               spec)])
    unknown = [name for name in body.columns or []
               if name not in SYSTEM_FIELDS and (name not in spec.stored_fields()
                                                 or not access.can_read(name))]
    if unknown:
        raise ValidationFailed(message("saved_view_invalid"), [
            Problem(f"columns.{name}", message("saved_view_unknown_column", name=name,
                                               entity=spec.label)) for name in unknown])
    return {"filter": body.filter, "sort": body.sort, "columns": body.columns, "q": body.q}


def _described(row: Any) -> dict[str, Any]:
    return {"id": row.id, "label": row.label, "base": row.base, **row.definition,
            "updated_at": row.updated_at}


async def list_saved_views(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                           base: str | None = None) -> list[dict[str, Any]]:
    query = select(saved_views).where(saved_views.c.app_id == runtime.app_id,
                                      saved_views.c.user_id == actor.user_id)
    if base:
        query = query.where(saved_views.c.base == base)
    rows = await conn.execute(query.order_by(saved_views.c.label, saved_views.c.id))
    return [_described(row) for row in rows]


async def get_saved_view(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                         view_id: int) -> dict[str, Any]:
    row = (await conn.execute(select(saved_views).where(
        saved_views.c.id == view_id, saved_views.c.app_id == runtime.app_id,
        saved_views.c.user_id == actor.user_id))).first()
    if row is None:
        raise NotFound(message("saved_view_not_found", id=view_id))
    return _described(row)


async def save_view(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                    body: SavedViewIn, now: datetime,
                    view_id: int | None = None) -> dict[str, Any]:
    """Keep a new saved view, or (``view_id``) change one of the reader's own."""
    definition = await _checked(conn, runtime, actor, body, now)
    values = {"label": body.label.strip(), "base": body.base, "definition": definition,
              "updated_at": now}
    if view_id is not None:
        await get_saved_view(conn, runtime, actor, view_id)
        await conn.execute(update(saved_views).where(saved_views.c.id == view_id)
                           .values(**values))
        return await get_saved_view(conn, runtime, actor, view_id)
    if len(await list_saved_views(conn, runtime, actor)) >= MAX_SAVED:
        why = message("saved_view_too_many", max=MAX_SAVED)
        raise ValidationFailed(why, [Problem(None, why)])
    created = await conn.execute(insert(saved_views).values(
        app_id=runtime.app_id, user_id=actor.user_id, created_at=now, **values)
        .returning(saved_views.c.id))
    return await get_saved_view(conn, runtime, actor, created.scalar_one())


async def delete_saved_view(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                            view_id: int) -> None:
    await get_saved_view(conn, runtime, actor, view_id)
    await conn.execute(delete(saved_views).where(saved_views.c.id == view_id))


def shared_view_item(runtime: AppRuntime, actor: Actor, saved: dict[str, Any],
                     label: dict[str, str], roles: list[str] | None) -> dict[str, Any]:
    """The app view a saved view becomes when a builder shares it."""
    entity = _entity_of(runtime, actor, saved["base"])
    spec = runtime.entity(entity)
    columns = saved.get("columns") or [name for name in spec.stored_fields()
                                       if spec.fields[name].type.value not in ("subtable",)
                                       ][:8]
    item: dict[str, Any] = {"entity": entity, "label": label, "kind": "list",
                            "columns": columns}
    base_filter = None
    if saved["base"].startswith("view:"):
        base_view = view_of(runtime, actor, saved["base"].split(":", 1)[1])
        base_filter = base_view.filter
        item["columns"] = saved.get("columns") or base_view.columns
    conditions = [c for c in (base_filter, saved.get("filter")) if c]
    if conditions:
        item["filter"] = conditions[0] if len(conditions) == 1 else {"and": conditions}
    if saved.get("sort"):
        item["sort"] = saved["sort"]
    if roles:
        item["roles"] = roles
    return item
