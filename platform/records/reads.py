"""Reading records: one record, or a page of a filtered, sorted list.

Lists fetch only the columns asked for, page by keyset cursor, and never count more than
COUNT_CAP rows (a list over millions of rows answers "10,000+" instead of scanning them all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.field_values.coercion import is_record_id
from loom.engines.query.keyset import (
    continuation,
    decode_cursor,
    encode_cursor,
    order_by,
    parse_sort,
)
from loom.metamodel.entity import SYSTEM_FIELDS, EntitySpec
from loom.metamodel.errors import BadRequest, NotFound, PermissionDenied
from loom.metamodel.i18n import message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import environment, filter_clause
from loom.platform.records.context import WriteBudget
from loom.platform.records.search import search_clause
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import Access, authorize

COUNT_CAP = 10_000
MAX_LIMIT = 1000
DEFAULT_LIMIT = 50

register_messages({
    "bad_limit": {"en": "limit must be between 1 and {max}",
                  "zh-CN": "limit 必须在 1 到 {max} 之间"},
    "unknown_list_field": {"en": "'{name}' is not a field of {entity}",
                           "zh-CN": "“{name}”不是{entity}的字段"},
})


@dataclass
class ListQuery:
    filter: Any = None
    sort: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    fields: list[str] | None = None
    count: bool = False
    # A filter from published metadata (a saved view, a related list): the app's builders
    # wrote it, so it may read fields this reader cannot see; the reader's own ``filter``
    # may not.
    preset: Any = None
    # the words of a quick search (platform/records/search.py)
    search: str | None = None
    # a number field to total over the whole list (with ``count``; only when the count
    # is not capped, so no total ever scans more rows than a count may)
    total: str | None = None


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None
    count: int | None = None
    count_capped: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def visible(spec: EntitySpec, access: Access, record: dict[str, Any],
            fields: list[str] | None = None) -> dict[str, Any]:
    """The record as this reader may see it (hidden fields absent). With ``fields``, only
    those, plus the id and version that name the row and guard a change of it."""
    names = [name for name in SYSTEM_FIELDS
             if fields is None or name in ("id", "version") or name in fields]
    names += [name for name in spec.stored_fields() if fields is None or name in fields]
    return {name: record.get(name) for name in names
            if name in SYSTEM_FIELDS or access.can_read(name)}


async def as_seen(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, entity: str,
                  records: list[dict[str, Any]], *,
                  budget: WriteBudget | None = None) -> list[dict[str, Any]]:
    """Records just written, as their writer may see them: hidden fields absent (a role
    may create without reading: then only the id and version come back). The answer is
    the record as stored: read again when after-save rules and flows may have changed
    them in the same transaction (an SLA's due time, a new version) — unless ``budget``,
    the write's, shows the write set off no other (the pipeline's answer is then the row
    the database returned)."""
    if budget is None or not budget.wrote_once:
        records = await _as_stored(conn, runtime, entity, records)
    try:
        access = await authorize(conn, actor, runtime, entity, "read")
    except PermissionDenied:
        return [{"id": r["id"], "version": r["version"]} for r in records]
    spec = runtime.entity(entity)
    return [visible(spec, access, record) for record in records]


async def _as_stored(conn: AsyncConnection, runtime: AppRuntime, entity: str,
                     records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    table = runtime.tables[entity]
    stored: dict[int, dict[str, Any]] = {}
    ids = [r["id"] for r in records]
    for start in range(0, len(ids), 500):  # bounded IN lists
        rows = await conn.execute(select(table).where(table.c.id.in_(ids[start:start + 500])))
        stored.update({row["id"]: dict(row) for row in rows.mappings()})
    # a record an after-save effect deleted answers as it was written
    return [stored.get(r["id"], r) for r in records]


async def get_record(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, entity: str,
                     record_id: int, now: datetime) -> dict[str, Any]:
    """One record as the actor may see it; outside their reach it does not exist for them."""
    access = await authorize(conn, actor, runtime, entity, "read")
    table = runtime.tables[entity]
    row = None
    if is_record_id(record_id):  # beyond the id range the database would fail, not miss
        query = select(table).where(table.c.id == record_id)
        if access.rows is not None:
            query = query.where(access.rows.where(
                runtime, environment(runtime, actor, now), conn.dialect.name))
        row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound(message("not_found_record", entity=runtime.entity(entity).label,
                               id=record_id))
    return visible(runtime.entity(entity), access, dict(row))


async def list_records(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, entity: str,
                       query: ListQuery, now: datetime) -> Page:
    access = await authorize(conn, actor, runtime, entity, "read")
    spec = runtime.entity(entity)
    table = runtime.tables[entity]
    if not 1 <= query.limit <= MAX_LIMIT:
        raise BadRequest(message("bad_limit", max=MAX_LIMIT))
    if query.fields is not None:
        for name in query.fields:
            if name not in spec.stored_fields() and name not in SYSTEM_FIELDS:
                raise BadRequest(message("unknown_list_field", name=name, entity=spec.label))
    keys = parse_sort(query.sort, spec)
    access.require_readable(runtime, entity, [k.field for k in keys])
    wanted = [name for name in visible(spec, access, {}, query.fields)]
    columns = [table.c[name] for name in wanted]
    columns += [table.c[k.field] for k in keys if k.field not in wanted]
    env = environment(runtime, actor, now)
    where = None
    if query.filter not in (None, {}, True):
        where = filter_clause(runtime, entity, query.filter, env, dialect=conn.dialect.name,
                              access=access)
    if query.preset not in (None, {}, True):
        preset = filter_clause(runtime, entity, query.preset, env, dialect=conn.dialect.name)
        where = preset if where is None else and_(where, preset)
    if query.search:
        found = search_clause(spec, table, access, query.search)
        if found is not None:
            where = found if where is None else and_(where, found)
    if access.rows is not None:
        reach = access.rows.where(runtime, env, conn.dialect.name)
        where = reach if where is None else and_(where, reach)
    statement = select(*columns)
    if where is not None:
        statement = statement.where(where)
    page = statement.order_by(*order_by(table.c, keys))
    blanks = None
    if query.cursor:
        after = continuation(table.c, keys, decode_cursor(query.cursor, keys, spec))
        page, blanks = page.where(after.ranged), after.blanks
    rows = (await conn.execute(page.limit(query.limit + 1))).mappings().all()
    if blanks is not None and len(rows) <= query.limit:  # the blank sort values come last
        rest = statement.where(blanks).order_by(*order_by(table.c, keys))
        rows += (await conn.execute(rest.limit(query.limit + 1 - len(rows)))).mappings().all()
    has_more = len(rows) > query.limit
    rows = rows[:query.limit]
    items = [{name: row[name] for name in wanted} for row in rows]
    next_cursor = encode_cursor(keys, rows[-1]) if has_more and rows else None
    result = Page(items, next_cursor)
    if query.count:
        capped = select(literal(1)).select_from(table)
        if where is not None:
            capped = capped.where(where)
        result.count, result.count_capped = await capped_count(conn, capped)
        if query.total and access.can_read(query.total) and not result.count_capped:
            result.extra["sum"] = await conn.scalar(select(func.sum(table.c[query.total]))
                                                    .where(*([where] if where is not None
                                                             else [])))
    return result


async def capped_count(conn: AsyncConnection, query: Any) -> tuple[int, bool]:
    """How many rows ``query`` selects, counting no further than COUNT_CAP, and whether
    there are more: the database stops scanning at the cap."""
    total = await conn.scalar(select(func.count()).select_from(
        query.limit(COUNT_CAP + 1).subquery())) or 0
    return min(total, COUNT_CAP), total > COUNT_CAP
