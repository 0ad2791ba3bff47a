"""Exporting records: every record of a list (its filter and sort) as rows of cells, page
by keyset page, as the reader may see them.

Reading goes through ``list_records`` — the same permission check, reach, hidden fields
and refusal of filters or sorts on hidden fields as the records API — after the
``export`` permission itself. A lookup is shown by the referenced record's naming field
only where the reader may read that record and field; otherwise by its id (``#42``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.entity import SYSTEM_FIELDS
from loom.metamodel.errors import BadRequest, PermissionDenied
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import message
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import environment
from loom.platform.records.reads import ListQuery, list_records, visible
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import Access, authorize
from loom.platform.storage.database import Database
from loom.platform.storage.system_tables import departments, users
from loom.platform.transfer.columns import (
    CellStyle,
    Column,
    display,
    field_spec,
    header,
    naming_field,
)

PAGE_SIZE = 500
# after the entity's fields, in this order; ``version`` only when asked for
TRAILING = ("created_at", "created_by", "updated_at", "updated_by")


@dataclass(frozen=True)
class ExportOptions:
    filter: Any = None
    sort: str | None = None
    fields: list[str] | None = None
    header: Literal["labels", "names"] = "labels"
    values: Literal["labels", "raw"] = "labels"
    locale: str = "zh-CN"
    text: bool = True  # CSV: every cell as text; XLSX keeps numbers, dates, booleans
    search: str | None = None  # the list's quick search: export what the list shows
    # a saved view's own filter (written by the app's builders, like the view it comes from)
    preset: Any = None


@dataclass(frozen=True)
class Naming:
    """How a lookup column shows the referenced record: by ``via`` where ``access``
    reaches it."""

    target: str
    via: str
    access: Access


@dataclass
class RecordExport:
    """A prepared export: its columns, and the first page (read while the request was
    authorized, so a bad filter is an error before anything is sent)."""

    runtime: AppRuntime
    actor: Actor
    entity: str
    options: ExportOptions
    columns: list[Column]
    namings: dict[str, Naming]
    first: list[dict[str, Any]]
    cursor: str | None
    people: dict[tuple[str, int], str] = field(default_factory=dict)

    def headers(self) -> list[str]:
        return [header(self.runtime, self.entity, column,
                       labels=self.options.header == "labels", locale=self.options.locale)
                for column in self.columns]

    def query(self, cursor: str | None) -> ListQuery:
        return ListQuery(filter=self.options.filter, sort=self.options.sort, limit=PAGE_SIZE,
                         cursor=cursor, fields=[c.field for c in self.columns],
                         search=self.options.search, preset=self.options.preset)

    async def pages(self, database: Database, now: datetime) -> AsyncIterator[list[list[Any]]]:
        """The rows of cells, a page at a time, each page read in its own transaction (on
        the read replica when there is one: an export may lag a moment behind)."""
        yield await database.lag_tolerant(lambda conn: self._cells(conn, self.first, now))
        cursor = self.cursor
        while cursor is not None:
            rows, cursor = await database.lag_tolerant(partial(self._page, cursor, now))
            yield rows

    async def _page(self, cursor: str, now: datetime,
                    conn: AsyncConnection) -> tuple[list[list[Any]], str | None]:
        """The cells of the page at ``cursor``, and the cursor of the next."""
        page = await list_records(conn, self.runtime, self.actor, self.entity,
                                  self.query(cursor), now)
        return await self._cells(conn, page.items, now), page.next_cursor

    async def _cells(self, conn: AsyncConnection, items: list[dict[str, Any]],
                     now: datetime) -> list[list[Any]]:
        names = await self._reference_names(conn, items, now)
        style = CellStyle(labels=self.options.values == "labels", locale=self.options.locale,
                          tz=ZoneInfo(self.runtime.doc.app.timezone), text=self.options.text)
        spec = self.runtime.entity(self.entity)
        rows = []
        for item in items:
            row = []
            for column in self.columns:
                value = item.get(column.field)
                known = names.get(column.field)
                if known is not None and value is not None:
                    shown, target_field = known.get(value, (f"#{value}", None))
                    row.append(display(target_field, shown, style))
                else:
                    row.append(display(field_spec(spec, column.field), value, style))
            rows.append(row)
        return rows

    async def _reference_names(self, conn: AsyncConnection, items: list[dict[str, Any]],
                               now: datetime) -> dict[str, dict[int, tuple[Any, Any]]]:
        """For each reference column: id → (what to show, the field it is)."""
        spec = self.runtime.entity(self.entity)
        found: dict[str, dict[int, tuple[Any, Any]]] = {}
        env = environment(self.runtime, self.actor, now)
        for column in self.columns:
            kind = field_spec(spec, column.field)
            if kind is None or (column.field not in self.namings and kind.type not in (
                    FieldType.USER, FieldType.DEPARTMENT)):
                continue
            ids = {item[column.field] for item in items if item.get(column.field) is not None}
            if not ids:
                continue
            if column.field in self.namings:
                naming = self.namings[column.field]
                table = self.runtime.tables[naming.target]
                query = select(table.c.id, table.c[naming.via]).where(table.c.id.in_(ids))
                if naming.access.rows is not None:
                    query = query.where(naming.access.rows.where(self.runtime, env,
                                                                 conn.dialect.name))
                via_field = self.runtime.entity(naming.target).fields[naming.via]
                found[column.field] = {row_id: (value, via_field) for row_id, value in
                                       (await conn.execute(query)).all() if value is not None}
            elif kind.type in (FieldType.USER, FieldType.DEPARTMENT):
                found[column.field] = {i: (name, None) for i, name in
                                       (await self._people(conn, kind.type, ids)).items()}
        return found

    async def _people(self, conn: AsyncConnection, kind: FieldType,
                      ids: set[int]) -> dict[int, str]:
        """Emails of users, names of departments (of this workspace), remembered."""
        key = kind.value
        missing = {i for i in ids if (key, i) not in self.people}
        if missing:
            table, name = (users, users.c.email) if kind is FieldType.USER else \
                (departments, departments.c.name)
            rows = await conn.execute(select(table.c.id, name).where(
                table.c.id.in_(missing), table.c.workspace_id == self.runtime.workspace_id))
            for row_id, text in rows.all():
                self.people[(key, row_id)] = text
        return {i: self.people[(key, i)] for i in ids if (key, i) in self.people}


async def prepare_export(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                         entity: str, options: ExportOptions, now: datetime) -> RecordExport:
    """Check the export (permission, fields, filter, sort) and read its first page."""
    await authorize(conn, actor, runtime, entity, "export")
    access = await authorize(conn, actor, runtime, entity, "read")
    names = _field_names(runtime, access, entity, options.fields)
    namings = {}
    for name in names:
        naming = await _naming(conn, actor, runtime, runtime.entity(entity).fields.get(name))
        if naming is not None:
            namings[name] = naming
    columns = [Column(name, namings[name].via if name in namings else None) for name in names]
    export = RecordExport(runtime, actor, entity, options, columns, namings, [], None)
    page = await list_records(conn, runtime, actor, entity, export.query(None), now)
    export.first, export.cursor = page.items, page.next_cursor
    return export


def _field_names(runtime: AppRuntime, access: Access, entity: str,
                 wanted: list[str] | None) -> list[str]:
    """The columns: the asked-for fields (unknown ones refused), else the id, every field
    with a column and the trailing system fields — all of them as far as readable."""
    spec = runtime.entity(entity)
    if wanted is not None:
        for name in wanted:
            if name not in spec.stored_fields() and name not in SYSTEM_FIELDS:
                raise BadRequest(message("unknown_list_field", name=name, entity=spec.label))
        names = list(dict.fromkeys(["id", *wanted]))
    else:
        names = ["id", *spec.stored_fields(), *TRAILING]
    shown = visible(spec, access, {}, names)
    return [name for name in names if name in shown]


async def _naming(conn: AsyncConnection, actor: Actor, runtime: AppRuntime,
                  spec: Any) -> Naming | None:
    if spec is None or spec.type is not FieldType.LOOKUP or not spec.ref:
        return None
    via = naming_field(runtime, spec.ref)
    if via is None:
        return None
    try:
        access = await authorize(conn, actor, runtime, spec.ref, "read")
    except PermissionDenied:
        return None
    return Naming(spec.ref, via, access) if access.can_read(via) else None
