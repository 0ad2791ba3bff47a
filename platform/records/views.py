"""Opening saved views: a list view's page, or a kanban's columns with their cards.

A view is a saved list query: it runs through ``list_records``, so the reader's reach
(rows), hidden fields (columns dropped), keyset pages and capped counts are exactly
those of the records API. A reader may narrow a view with a filter of their own; they
can never widen it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import BadRequest, NotFound, PermissionDenied
from loom.metamodel.i18n import localize, message, register_messages
from loom.metamodel.views import MAX_PAGE_SIZE, ViewSpec
from loom.platform.compiled.app import AppRuntime
from loom.platform.records.reads import ListQuery, list_records
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import authorize, trusted
from loom.renderers.layouts import columns, options

register_messages({
    "view_not_found": {"en": "The app {app} has no view '{name}'",
                       "zh-CN": "应用 {app} 中没有视图“{name}”"},
    "view_bad_limit": {"en": "limit must be between 1 and {max}",
                       "zh-CN": "limit 必须在 1 到 {max} 之间"},
    "view_bad_group": {"en": "'{group}' is not a column of this kanban ({options})",
                       "zh-CN": "“{group}”不是此看板的列（{options}）"},
    "view_blank_group": {"en": "(none)", "zh-CN": "（未填写）"},
    "view_other_entity": {"en": "The view '{name}' does not list {entity} records",
                          "zh-CN": "视图“{name}”列出的不是 {entity} 记录"},
    "view_group_needs_kanban": {"en": "group applies to kanban views only",
                                "zh-CN": "group 参数只适用于看板视图"},
})

BLANK_GROUP = ""  # the kanban column of records whose group field is blank


def may_open(actor: Actor, view: ViewSpec) -> bool:
    return view.roles is None or trusted(actor) or bool(actor.roles & set(view.roles))


def view_of(runtime: AppRuntime, actor: Actor, name: str) -> ViewSpec:
    view = runtime.doc.views.get(name)
    if view is None or not may_open(actor, view):  # one not for them does not exist for them
        raise NotFound(message("view_not_found", app=runtime.slug, name=name))
    return view


def view_filter(runtime: AppRuntime, actor: Actor, name: str, entity: str) -> Any:
    """The filter of a view of ``entity`` the reader may open (for exporting what it lists)."""
    view = view_of(runtime, actor, name)
    if view.entity != entity:
        raise BadRequest(message("view_other_entity", name=name, entity=entity))
    return view.filter


async def list_views(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                     locale: str) -> list[dict[str, Any]]:
    """The views this reader may open: theirs by role, on entities they may read."""
    found = []
    readable: dict[str, bool] = {}  # asked once per entity
    for name, view in sorted(runtime.doc.views.items(), key=lambda i: (i[1].order, i[0])):
        if not may_open(actor, view):
            continue
        if view.entity not in readable:
            try:
                await authorize(conn, actor, runtime, view.entity, "read")
                readable[view.entity] = True
            except PermissionDenied:
                readable[view.entity] = False
        if readable[view.entity]:
            found.append(describe(runtime, name, view, locale))
    return found


def describe(runtime: AppRuntime, name: str, view: ViewSpec, locale: str) -> dict[str, Any]:
    spec = runtime.entity(view.entity)
    return {"name": name, "label": localize(view.label, locale),
            "description": localize(view.description, locale) if view.description else None,
            "entity": view.entity, "entity_label": localize(spec.label, locale),
            "kind": view.kind, "sort": view.sort, "group_by": view.group_by, "sum": view.sum,
            "rank": view.rank,
            "page_size": view.page_size}


async def open_view(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, name: str,
                    now: datetime, *, locale: str, limit: int | None = None,
                    cursor: str | None = None, rule: Any = None,
                    group: str | None = None, search: str | None = None,
                    sort: str | None = None, count: bool = True) -> dict[str, Any]:
    """One page of a list view, or the columns of a kanban (``group``: one column only,
    paged on with ``cursor``). ``sort`` orders it otherwise than the view does."""
    view = view_of(runtime, actor, name)
    access = await authorize(conn, actor, runtime, view.entity, "read")
    size = view.page_size if limit is None else limit
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadRequest(message("view_bad_limit", max=MAX_PAGE_SIZE))
    if group is not None and view.kind != "kanban":
        raise BadRequest(message("view_group_needs_kanban"))
    spec = runtime.entity(view.entity)
    shown = columns(spec, view.columns, access.can_read, locale)
    fields = [c["name"] for c in shown]
    body: dict[str, Any] = {"view": describe(runtime, name, view, locale)}
    if view.kind == "list":
        page = await list_records(conn, runtime, actor, view.entity, ListQuery(
            filter=rule, preset=view.filter, sort=sort or view.sort, limit=size,
            cursor=cursor, fields=fields, count=count, search=search), now)
        body.update(columns=shown, items=page.items, next_cursor=page.next_cursor,
                    count=page.count, count_capped=page.count_capped)
        return body
    if view.rank and access.can_read(view.rank) and view.rank not in fields:
        fields = [*fields, view.rank]  # the cards carry their rank: a move computes the next
    body.update(fields=shown, columns=await _kanban(
        conn, runtime, actor, view, now, rule, fields, size, cursor, group, locale, search))
    return body


async def _kanban(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, view: ViewSpec,
                  now: datetime, rule: Any, fields: list[str], size: int,
                  cursor: str | None, group: str | None, locale: str,
                  search: str | None) -> list[dict[str, Any]]:
    """One column per option of the group field, in option order, then the blanks (only
    when there are any, or when asked for)."""
    assert view.group_by is not None  # checked at publish
    field = runtime.entity(view.entity).fields[view.group_by]
    lanes = options(field, locale)
    values = [lane["value"] for lane in lanes] + [BLANK_GROUP]
    if group is not None and group not in values:
        raise BadRequest(message("view_bad_group", group=group, options=", ".join(values[:-1])))
    lanes.append({"value": None, "label": localize(message("view_blank_group"), locale),
                  "category": None})
    found = []
    for lane in lanes:
        value = BLANK_GROUP if lane["value"] is None else lane["value"]
        if group is not None and value != group:
            continue
        where = {"is_blank": {"var": view.group_by}} if lane["value"] is None else \
            {"==": [{"var": view.group_by}, value]}
        page = await list_records(conn, runtime, actor, view.entity, ListQuery(
            filter=rule, preset=_all([view.filter, where]), sort=_card_order(view), limit=size,
            cursor=cursor if group is not None else None, fields=fields, count=True,
            search=search, total=view.sum), now)
        if lane["value"] is None and group is None and not page.count:
            continue
        found.append({**lane, "count": page.count, "count_capped": page.count_capped,
                      "sum": page.extra.get("sum"), "items": page.items,
                      "next_cursor": page.next_cursor})
    return found


def _card_order(view: ViewSpec) -> str | None:
    """A kanban's cards: by their rank (people's own order; unranked ones last), then as
    the view sorts."""
    if view.rank is None:
        return view.sort
    return ",".join(part for part in (view.rank, view.sort) if part)


def _all(conditions: list[Any]) -> Any:
    present = [c for c in conditions if c not in (None, {}, True)]
    if not present:
        return None
    return present[0] if len(present) == 1 else {"and": present}
