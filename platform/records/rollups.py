"""Roll-up fields: a parent's aggregate over its child records (a contract's received amount
is the sum of its payments), kept current whenever a child is created, changed, moved to
another parent or deleted. The new value is written through the pipeline, so rules can react
to it (e.g. "fully paid → status paid")."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select

from loom.metamodel.fields import FieldSpec, FieldType
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import environment, filter_clause
from loom.platform.records.context import WriteContext
from loom.platform.security.permissions import FULL_ACCESS

AGGREGATES = {"sum": func.sum, "min": func.min, "max": func.max, "avg": func.avg}


def rollups_over(runtime: AppRuntime, child: str) -> list[tuple[str, str, FieldSpec]]:
    """(parent entity, field name, spec) of every roll-up aggregating ``child`` records."""
    found = []
    for parent, spec in runtime.doc.entities.items():
        for name, field in spec.fields.items():
            if field.type is FieldType.ROLLUP and field.rollup and field.rollup.entity == child:
                found.append((parent, name, field))
    return found


def _normalise(field: FieldSpec, value: Any) -> Any:
    function = field.rollup.function if field.rollup else "sum"
    if value is None:
        return 0 if function in ("sum", "count") and field.storage_type() is not FieldType.DATE \
            else None
    kind = field.storage_type()
    if kind is FieldType.INTEGER:
        return int(value)
    if kind in (FieldType.DECIMAL, FieldType.CURRENCY, FieldType.PERCENT):
        step = Decimal(1).scaleb(-field.decimal_scale())
        return Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP)
    return value


async def compute(ctx: WriteContext, parent_id: int, field: FieldSpec) -> Any:
    rollup = field.rollup
    assert rollup is not None
    child = ctx.runtime.tables[rollup.entity]
    if rollup.function == "count":
        aggregate = func.count(child.c.id)
    else:
        aggregate = AGGREGATES[rollup.function](child.c[rollup.field or "id"])
    query = select(aggregate).where(child.c[rollup.link_field] == parent_id)
    if rollup.filter:
        where = filter_clause(ctx.runtime, rollup.entity, rollup.filter,
                              environment(ctx.runtime, ctx.actor, ctx.now),
                              dialect=ctx.conn.dialect.name)
        if where is not None:
            query = query.where(where)
    return _normalise(field, await ctx.conn.scalar(query))


async def own_rollups(ctx: WriteContext) -> dict[str, Any]:
    """The record's roll-ups over its child records as they stand now — in a save that
    wrote its line items first (platform/records/subtable_rows.py)."""
    record_id = ctx.record_id
    assert record_id is not None
    return {name: await compute(ctx, record_id, field) for name, field in ctx.spec.fields.items()
            if field.type is FieldType.ROLLUP and field.rollup}


class RollupHook:
    """Keeps roll-up fields current; plugged into the write pipeline."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline

    async def before_save(self, ctx: WriteContext) -> None:
        # a new record that has its id already had its line items written first: the
        # pipeline computed its roll-ups from them
        if ctx.operation != "create" or ctx.record_id is not None:
            return
        for name, field in ctx.spec.fields.items():
            if field.type is FieldType.ROLLUP:
                ctx.new[name] = _normalise(field, None)

    async def after_save(self, ctx: WriteContext) -> None:
        # every roll-up of one parent record is refreshed in one update
        targets: dict[tuple[str, int], list[tuple[str, FieldSpec]]] = {}
        for parent, name, field in rollups_over(ctx.runtime, ctx.entity):
            link = field.rollup.link_field if field.rollup else ""
            for parent_id in {(ctx.old or {}).get(link), ctx.new.get(link)} - {None}:
                targets.setdefault((parent, parent_id), []).append((name, field))
        for (parent, parent_id), fields in sorted(targets.items()):
            if (parent, parent_id) not in ctx.budget.settling:
                await self._refresh(ctx, parent, parent_id, fields)

    async def _refresh(self, ctx: WriteContext, parent: str, parent_id: int,
                       fields: list[tuple[str, FieldSpec]]) -> None:
        table = ctx.runtime.tables[parent]
        row = (await ctx.conn.execute(select(*[table.c[name] for name, _ in fields])
                                      .where(table.c.id == parent_id))).mappings().first()
        if row is None:  # the parent is being deleted along with its children
            return
        values = {}
        for name, field in fields:
            value = await compute(ctx, parent_id, field)
            if row[name] != value:
                values[name] = value
        if values:
            await self.pipeline.update(ctx.conn, ctx.runtime, ctx.actor.via("system"), parent,
                                       parent_id, {}, budget=ctx.budget, computed=values,
                                       access=FULL_ACCESS)
