"""Related-record aggregates, for scheduled rules and filters:

``{"related": {"entity": "follow_up", "via": "opportunity", "agg": "count",
"where": {">=": [{"var": "created_at"}, {"date_add": [{"now": []}, -7, "days"]}]}}}``

counts (or sums, averages, finds the min/max of ``field`` over) the ``entity`` records
whose lookup ``via`` points at this record. In SQL it is a correlated subquery, so a
list filter or a scheduled rule stays one query. Python evaluation asks the environment
(``Env.related``), which the platform answers with the same SQL; without it, evaluation
stops with a clear error rather than guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import column, exists, func, select, table

from loom.engines.expressions.env import RelatedQuery
from loom.engines.expressions.errors import NotTranslatable
from loom.engines.expressions.python import Emitter
from loom.engines.expressions.scope import Scope, ValueType
from loom.engines.expressions.sql import SqlBuilder, SqlValue
from loom.engines.expressions.tree import Builder, Expr, Fn, Operator, register

AGGREGATES = ("count", "sum", "avg", "min", "max", "exists")


@dataclass(frozen=True)
class RelatedSpec:
    entity: str
    via: str
    agg: str
    field: str | None
    where: Any        # the child condition as written (JSON Logic)
    compiled: Any     # the child condition compiled (Compiled) or None


def build_related(builder: Builder, args: list[Any], context: Any) -> Expr:
    from loom.engines.expressions.compiled import build, compile_condition

    spec = args[0] if len(args) == 1 and isinstance(args[0], Mapping) else None
    position = context.position
    if spec is None or not {"entity", "via"} <= set(spec) or not set(spec) <= {
            "entity", "via", "agg", "field", "where"}:
        builder.problem("expr_bad_argument", position=position, fatal=True, name="related",
                        detail='write {"entity": …, "via": …, "agg": …, "field"?, "where"?}')
        return Expr("related", value=None)
    entity, via = str(spec["entity"]), str(spec["via"])
    agg = str(spec.get("agg", "count"))
    field = spec.get("field")
    if agg not in AGGREGATES:
        builder.problem("expr_bad_unit", position=position, fatal=True, unit=agg,
                        units=", ".join(AGGREGATES))
    if agg in ("sum", "avg", "min", "max") and not field:
        builder.problem("expr_bad_argument", position=position, fatal=True, name="related",
                        detail=f"'{agg}' needs a field")
    child_scope = _child_scope(builder, entity, via, position)
    kind, scale = _result_type(child_scope, agg, field)
    where = spec.get("where")
    compiled = None
    if where is not None:
        inner = build(where, child_scope)
        builder.problems += inner.problems
        builder.fatal += inner.fatal
        if not inner.fatal:
            compiled = compile_condition(where, child_scope)
    builder.note_read("id")
    return Expr("related", value=RelatedSpec(entity, via, agg, field, where, compiled),
                type=kind, scale=scale, reads_data=True)


def _child_scope(builder: Builder, entity: str, via: str, position: int | None) -> Scope | None:
    scope = builder.frame_scope
    if scope is None or scope.app is None:
        return None
    child = scope.entity_scope(entity)
    if child is None:
        builder.problem("expr_unknown_entity", position=position, name=entity)
        return None
    link = child.fields.get(via)
    if link is None or link.ref != scope.entity:
        builder.problem("expr_bad_via", position=position, via=via, entity=child.label or entity,
                        parent=scope.label or scope.entity or "")
    return child


def _result_type(scope: Scope | None, agg: str, field: str | None) -> tuple[ValueType, Any]:
    if agg == "count":
        return ValueType.INTEGER, 0
    if agg == "exists":
        return ValueType.BOOLEAN, None
    info = scope.lookup(field) if scope is not None and field else None
    if info is None:
        return ValueType.NUMBER, None
    if agg == "avg":
        return ValueType.NUMBER, None
    return info.type, info.scale


def emit_related(expr: Expr, _fns: list[Fn], em: Emitter) -> Fn:
    spec: RelatedSpec = expr.value

    def related(data: Any, run: Any) -> Any:
        answer = run.environment().related
        if answer is None or spec is None:
            raise em.error(expr, "expr_related_unavailable")
        record = data if isinstance(data, Mapping) else {}
        return answer(RelatedQuery(spec.entity, spec.via, spec.agg, spec.field,
                                   spec.compiled, record))

    return related


def sql_related(sql: SqlBuilder, expr: Expr) -> SqlValue:
    spec: RelatedSpec = expr.value
    if spec is None:
        raise NotTranslatable("a malformed 'related' has no SQL form")
    if sql.related is None:
        if not sql.dry:
            raise NotTranslatable("related records cannot be reached from this query")
        child_table = table(spec.entity)

        def child_resolve(path: str) -> Any:
            return column(path)
    else:
        child_table, child_resolve = sql.related(spec.entity)
    conditions = [child_resolve(spec.via) == sql.resolve("id")]
    if spec.compiled is not None:
        inner = SqlBuilder(child_resolve, sql.env, dialect=sql.dialect, related=sql.related,
                           dry=sql.dry)
        conditions.append(inner.predicate(spec.compiled.tree))
    if spec.agg == "exists":
        return SqlValue(exists().select_from(child_table).where(*conditions),
                        ValueType.BOOLEAN)
    if spec.agg == "count":
        aggregate = func.count()
    else:
        target = child_resolve(spec.field)
        aggregate = getattr(func, spec.agg)(target)
        if spec.agg == "sum":
            aggregate = func.coalesce(aggregate, 0)
    query = select(aggregate).select_from(child_table).where(*conditions)
    return SqlValue(query.scalar_subquery(), expr.type, expr.scale)


register(Operator("related", emit_related, arity=(0, None), build=build_related,
                  reads_data=True, needs_env=True, sql_value=sql_related))
