"""Line items saved with their record: the rows of a ``subtable`` field (a quote's
``items``), sent inline in the body of a create or a change, written in the same
transaction through the same pipeline.

In the save of a record with rows (docs/ARCHITECTURE.md, "The write pipeline"):

1. the record is staged — on create a row holding the values given, so the line items have
   an id to point at; on change the values given, without a new version or an audit entry
   (the record's own write does both). Line items read their record through lookups as it
   is being saved;
2. per subtable field, the rows listed are the complete new set: existing rows not listed
   are deleted, rows with an ``id`` changed (only the fields given; a ``version`` makes the
   change optimistic), rows without one added — each through the pipeline with the child
   entity's own permissions, checks, formulas, rules and audit. The record's roll-ups are
   not refreshed per row;
3. the record's roll-ups are computed once from the final rows, and the record goes on
   through its own pipeline (formulas, before-save rules, checks, one write, one audit entry
   naming its rows before → after), so all of it sees the final rows.

Every problem of the rows comes back at once, each at its path (``items[1].quantity``);
the caller refuses the save, and the transaction leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.field_values.coercion import is_record_id
from loom.engines.forms.validation import missing_required
from loom.metamodel.entity import EntitySpec
from loom.metamodel.errors import Conflict, NotFound, Problem, ValidationFailed
from loom.metamodel.fields import REFERENCE_TYPES, SUBTABLE_ROWS_MAX, FieldSpec, FieldType
from loom.metamodel.i18n import message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.records.change_request import literal_defaults, read_changes
from loom.platform.records.context import WriteContext
from loom.platform.records.rollups import own_rollups
from loom.platform.security.permissions import FULL_ACCESS, Access

register_messages({
    "rows_not_list": {"en": "{label}: send the rows as a list of objects",
                      "zh-CN": "{label}：明细行须是由对象组成的列表"},
    "row_not_object": {"en": "{label}: a row must be a JSON object of field values",
                       "zh-CN": "{label}：每一明细行必须是由字段值组成的 JSON 对象"},
    "rows_too_many": {"en": "{label}: at most {max} rows in one save",
                      "zh-CN": "{label}：一次最多保存 {max} 行"},
    "rows_too_many_stored": {
        "en": "{label}: this record has more than {max} rows; change them as {child} records",
        "zh-CN": "{label}：该记录的明细超过 {max} 行，请逐条修改{child}记录"},
    "row_not_here": {"en": "{label}: {id} is not a row of this record",
                     "zh-CN": "{label}：{id} 不是本记录的明细行"},
    "row_twice": {"en": "{label}: row {id} is listed twice",
                  "zh-CN": "{label}：明细行 {id} 出现了两次"},
    "row_link": {"en": "{label}: a row belongs to the record it is saved with",
                 "zh-CN": "{label}：明细行只能属于与其一同保存的记录"},
    "row_version": {"en": "{label}: version must be a whole number",
                    "zh-CN": "{label}：version 必须是整数"},
})

ROW_KEYS = ("id", "version")


@dataclass
class RowsGiven:
    """The rows a request gives for one subtable field, with their positions in its list."""

    name: str
    field: FieldSpec
    rows: list[tuple[int, Mapping[str, Any]]]


@dataclass
class RowsSaved:
    """What writing the rows came to, for the record's own write."""

    problems: list[Problem] = field(default_factory=list)
    staged: set[str] = field(default_factory=set)  # written by the stage: write them again
    touched: bool = False  # a row was added, changed or removed
    audit: dict[str, list[Any]] = field(default_factory=dict)  # {field: [ids before, after]}


def subtables_of(spec: EntitySpec) -> dict[str, FieldSpec]:
    return {name: f for name, f in spec.fields.items()
            if f.type is FieldType.SUBTABLE and f.entity and f.link_field}


def take_rows(spec: EntitySpec, data: Any, access: Access,
              ) -> tuple[Any, list[RowsGiven], list[Problem]]:
    """Split the rows of subtable fields off a change request (the rest goes on as the
    record's own values), checking their shape."""
    subtables = subtables_of(spec)
    if not isinstance(data, Mapping) or not subtables.keys() & data.keys():
        return data, [], []
    rest = {name: value for name, value in data.items() if name not in subtables}
    given: list[RowsGiven] = []
    problems: list[Problem] = []
    for name, field_spec in subtables.items():
        if name not in data:
            continue
        label = spec.field_label(name)
        value = data[name]
        if not access.can_write(name):
            problems.append(Problem(name, message("not_writable", label=label),
                                    code="read_only"))
        elif not isinstance(value, list):
            problems.append(Problem(name, message("rows_not_list", label=label), code="type"))
        elif len(value) > SUBTABLE_ROWS_MAX:
            problems.append(Problem(name, message("rows_too_many", label=label,
                                                  max=SUBTABLE_ROWS_MAX), code="too_many"))
        else:
            rows = [(pos, row) for pos, row in enumerate(value) if isinstance(row, Mapping)]
            problems += [Problem(f"{name}[{pos}]", message("row_not_object", label=label),
                                 code="type")
                         for pos, row in enumerate(value) if not isinstance(row, Mapping)]
            given.append(RowsGiven(name, field_spec, rows))
    return rest, given, problems


def check_rows(runtime: AppRuntime, given: list[RowsGiven], *, tz: tzinfo) -> list[Problem]:
    """What is wrong with the rows' values, read as the pipeline reads them (types,
    options, unknown fields) and, for new rows, the required fields left blank — for a
    form being filled in: nothing is written, nothing is looked up."""
    problems: list[Problem] = []
    for rows in given:
        link = rows.field.link_field or ""
        child = runtime.entity(rows.field.entity or "")
        for pos, row in rows.rows:
            values, found = read_changes(child, _values(row, link), FULL_ACCESS, tz=tz,
                                         trusted=True)
            if row.get("id") is None:
                values = literal_defaults(child, values, tz=tz) | values
                refused = {problem.field for problem in found} | {link}
                found += [problem for problem in missing_required(child, values)
                          if problem.field not in refused]
            problems += relocate(f"{rows.name}[{pos}]", found)
    return problems


def relocate(path: str, problems: list[Problem]) -> list[Problem]:
    """A row's problems under the row's path: ``quantity`` → ``items[1].quantity``."""
    return [Problem(f"{path}.{p.field}" if p.field else path, p.message, p.code)
            for p in problems]


class SubtableWriter:
    """Writes the rows saved with a record, through the pipeline it is given."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline

    async def save(self, ctx: WriteContext, given: list[RowsGiven]) -> RowsSaved:
        saved = RowsSaved()
        saved.staged = await self._stage(ctx)
        key = (ctx.entity, ctx.new["id"])
        ctx.budget.settling.add(key)
        ctx.budget.widen(sum(len(rows.rows) for rows in given))
        try:
            for rows in given:
                await self._save_rows(ctx, rows, saved)
        finally:
            ctx.budget.settling.discard(key)
        await self._catch_up(ctx)
        ctx.new.update(await own_rollups(ctx))
        return saved

    # --- 1. the record, staged -----------------------------------------------------------

    async def _stage(self, ctx: WriteContext) -> set[str]:
        """Write the values given so far, so the line items can point at the record and read
        it. When the database refuses them (a missing reference, a taken unique value), the
        record is staged without them: its own checks refuse the save with a clear message."""
        table = ctx.runtime.tables[ctx.entity]
        values = {name: ctx.new[name] for name, spec in ctx.spec.stored_fields().items()
                  if name in ctx.new and _stageable(spec, ctx.new[name])}
        if ctx.old is not None:
            values = {name: value for name, value in values.items()
                      if ctx.old.get(name) != value}
            if values and await _attempt(ctx.conn, update(table).where(
                    table.c.id == ctx.old["id"]).values(**values).returning(table.c.id)):
                return set(values)
            return set()
        system = {"version": 1, "created_at": ctx.now, "updated_at": ctx.now,
                  "created_by": ctx.actor.user_id, "updated_by": ctx.actor.user_id}
        statement = insert(table).returning(table.c.id)
        record_id = await _attempt(ctx.conn, statement.values(**values, **system))
        if record_id is None:
            record_id = (await ctx.conn.execute(statement.values(**system))).scalar_one()
        ctx.new["id"] = record_id
        return set(values)

    async def _catch_up(self, ctx: WriteContext) -> None:
        """A line item's rule may have changed the record meanwhile (through the pipeline):
        keep what it set, unless this save sets the same field, and write on top of its
        version."""
        latest = await self.pipeline.load(ctx.conn, ctx.runtime, ctx.entity, ctx.new["id"])
        stored = ctx.spec.stored_fields()
        if ctx.old is None:
            ctx.new.update({name: latest[name] for name in stored
                            if ctx.new.get(name) is None and latest[name] is not None})
            ctx.new["version"] = latest["version"]
        elif latest["version"] != ctx.old["version"]:
            mine = {name: value for name, value in ctx.new.items()
                    if ctx.old.get(name) != value}
            ctx.new.clear()
            ctx.new.update({**latest, **mine})
            ctx.old = {**ctx.old, "version": latest["version"]}

    # --- 2. the rows ---------------------------------------------------------------------

    async def _save_rows(self, ctx: WriteContext, given: RowsGiven, saved: RowsSaved) -> None:
        name, spec = given.name, given.field
        child, link = spec.entity or "", spec.link_field or ""
        label = ctx.spec.field_label(name)
        record_id = ctx.new["id"]
        existing = await self._existing(ctx, child, link, record_id)
        if len(existing) > SUBTABLE_ROWS_MAX:
            saved.problems.append(Problem(name, message(
                "rows_too_many_stored", label=label, max=SUBTABLE_ROWS_MAX,
                child=ctx.runtime.entity(child).label), code="too_many"))
            return
        listed: dict[int, tuple[int, Mapping[str, Any]]] = {}
        added: list[tuple[int, dict[str, Any]]] = []
        problems: list[Problem] = []
        for pos, row in given.rows:
            path = f"{name}[{pos}]"
            row_id, version = row.get("id"), row.get("version")
            if row.get(link) not in (None, record_id):
                problems.append(Problem(f"{path}.{link}", message("row_link", label=label),
                                        code="row_link"))
            if version is not None and not is_record_id(version):
                problems.append(Problem(f"{path}.version", message("row_version", label=label),
                                        code="type"))
            if row_id is None:
                added.append((pos, {**_values(row, link), link: record_id}))
            elif not is_record_id(row_id) or row_id not in existing:
                problems.append(Problem(f"{path}.id", message("row_not_here", label=label,
                                                              id=row_id), code="row_not_here"))
            elif row_id in listed:
                problems.append(Problem(f"{path}.id", message("row_twice", label=label,
                                                              id=row_id), code="row_twice"))
            else:
                listed[row_id] = (pos, row)
        saved.problems += problems
        before = sorted(existing)
        if not problems:  # a mistyped id must not remove the row it meant
            for row_id in [row_id for row_id in before if row_id not in listed]:
                await self._row(ctx, saved, name, self.pipeline.delete(
                    ctx.conn, ctx.runtime, ctx.actor, child, row_id, budget=ctx.budget))
                saved.touched = True
        for row_id, (pos, row) in listed.items():
            version = row.get("version")
            result = await self._row(ctx, saved, f"{name}[{pos}]", self.pipeline.update(
                ctx.conn, ctx.runtime, ctx.actor, child, row_id, _values(row, link),
                expected_version=version if is_record_id(version) else None,
                budget=ctx.budget))
            saved.touched |= result is not None and result["version"] != existing[row_id]
        created = await self._add(ctx, saved, name, child, added)
        saved.touched |= bool(created)
        after = sorted([*listed, *(record["id"] for record in created)])
        if saved.touched or before != after:
            saved.audit[name] = [before, after]

    async def _existing(self, ctx: WriteContext, child: str, link: str,
                        record_id: int) -> dict[int, int]:
        """{id: version} of the record's rows (one more than the bound, to tell)."""
        if ctx.old is None:
            return {}
        table = ctx.runtime.tables[child]
        rows = await ctx.conn.execute(select(table.c.id, table.c.version)
                                      .where(table.c[link] == record_id)
                                      .order_by(table.c.id).limit(SUBTABLE_ROWS_MAX + 1))
        return {row_id: version for row_id, version in rows.all()}

    async def _add(self, ctx: WriteContext, saved: RowsSaved, name: str, child: str,
                   added: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
        """The new rows, set-based in one pipeline call; a problem's position in the batch
        says which row it belongs to."""
        if not added:
            return []
        try:
            async with ctx.conn.begin_nested():
                return list(await self.pipeline.create_many(
                    ctx.conn, ctx.runtime, ctx.actor, child, [row for _, row in added],
                    budget=ctx.budget))
        except ValidationFailed as exc:
            for problem in exc.problems:
                pos = added[problem.index][0] if problem.index is not None else None
                path = f"{name}[{pos}]" if pos is not None else name
                saved.problems += relocate(path, [problem])
            return []

    async def _row(self, ctx: WriteContext, saved: RowsSaved, path: str,
                   write: Awaitable[Any]) -> Any:
        """One row's write in its own savepoint (a refused row leaves the transaction
        usable, so the other rows are still checked). Its problems are kept under its path;
        a stale version or a row still referenced refuses the save at once (409)."""
        try:
            async with ctx.conn.begin_nested():
                return await write
        except ValidationFailed as exc:
            saved.problems += relocate(path, exc.problems) or [
                Problem(path, exc.detail or "")]
        except NotFound as exc:  # outside the reader's reach
            saved.problems.append(Problem(f"{path}.id", exc.detail or "", code="not_found"))
        except Conflict as exc:
            raise Conflict(exc.detail, relocate(path, exc.problems) or [
                Problem(path, exc.detail or "", code="conflict")], extra=exc.extra) from None
        return None


def _values(row: Mapping[str, Any], link: str) -> dict[str, Any]:
    """A row's own values: its id and version name the row, its link is the record's."""
    return {name: value for name, value in row.items() if name not in (*ROW_KEYS, link)}


def _stageable(spec: FieldSpec, value: Any) -> bool:
    # a user or department given by email or name is resolved by the record's own checks
    return spec.type not in REFERENCE_TYPES or value is None or is_record_id(value)


async def _attempt(conn: AsyncConnection, statement: Any) -> Any:
    """The id ``statement`` returns, run in a savepoint; None when the database refuses."""
    try:
        async with conn.begin_nested():
            return (await conn.execute(statement)).scalar_one()
    except DBAPIError:
        return None
