"""What a condition or formula evaluated on one record needs from the database: values
read through lookups (``customer.region``), the line items of a sub-table
(``SUM(items.amount)``) and the answers of ``related`` aggregates. Fetched here, once per
evaluation, so the compiled closures stay pure."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.expressions import Compiled, Env, RelatedQuery
from loom.engines.expressions.sql import SqlBuilder
from loom.metamodel.fields import FieldType
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import column_resolver, environment, related_source
from loom.platform.security.actors import Actor


def _related_key(entity: str, via: str, agg: str, field: str | None,
                 where: Compiled | None) -> tuple[Any, ...]:
    return (entity, via, agg, field, id(where))


async def evaluation_data(conn: AsyncConnection, runtime: AppRuntime, entity: str,
                          record: Mapping[str, Any], compiled: Iterable[Compiled],
                          paths: Iterable[str] = ()) -> dict[str, Any]:
    """``record`` plus what ``compiled`` (and the field ``paths``) read outside it: lookup
    paths under their whole path, sub-table fields as lists of the child records."""
    spec = runtime.entity(entity)
    data = dict(record)
    through: dict[str, set[str]] = {}
    children: set[str] = set()
    for path in [p for item in compiled for p in item.reads] + list(paths):
        head, _, rest = path.partition(".")
        field = spec.fields.get(head)
        if not rest or field is None:
            continue
        if field.type is FieldType.LOOKUP and field.ref:
            through.setdefault(head, set()).add(rest)
        elif field.type is FieldType.SUBTABLE and field.entity:
            children.add(head)
    for head, rests in through.items():
        target = spec.fields[head].ref
        assert target is not None
        names = sorted(rests)
        row = None
        if record.get(head) is not None:
            resolve = column_resolver(runtime, target)
            table = runtime.tables[target]
            row = (await conn.execute(select(*[resolve(rest).label(f"c{i}")
                                               for i, rest in enumerate(names)])
                                      .where(table.c.id == record[head]))).first()
        for i, rest in enumerate(names):
            data[f"{head}.{rest}"] = row[i] if row is not None else None
    for head in children:
        field = spec.fields[head]
        rows: list[dict[str, Any]] = []
        if record.get("id") is not None and field.entity and field.link_field:
            table = runtime.tables[field.entity]
            rows = [dict(r) for r in (await conn.execute(
                select(table).where(table.c[field.link_field] == record["id"])
                .order_by(table.c.id))).mappings()]
        data[head] = rows
    return data


async def related_answers(conn: AsyncConnection, runtime: AppRuntime, entity: str,
                          record: Mapping[str, Any], compiled: Iterable[Compiled],
                          env: Env) -> Callable[[RelatedQuery], Any] | None:
    """Answers of every ``related`` aggregate in ``compiled`` for this record, computed
    by the same SQL a list filter uses; None when there are none."""
    nodes = [node for item in compiled for node in item.related]
    if not nodes:
        return None
    record_id = record.get("id")

    def resolve(path: str) -> Any:  # only the record's own id is asked for
        return literal(record_id if path == "id" else record.get(path), BigInteger)

    answers: dict[tuple[Any, ...], Any] = {}
    for node in nodes:
        spec = node.value
        key = _related_key(spec.entity, spec.via, spec.agg, spec.field, spec.compiled)
        if key in answers:
            continue
        builder = SqlBuilder(resolve, env, dialect=conn.dialect.name,
                             related=related_source(runtime))
        answers[key] = await conn.scalar(select(builder.value(node).sql))

    def answer(query: RelatedQuery) -> Any:
        return answers.get(_related_key(query.entity, query.via, query.agg, query.field,
                                        query.where))

    return answer


def record_env(runtime: AppRuntime, actor: Actor, now: datetime, *,
               prior: Mapping[str, Any] | None = None, changed: set[str] | None = None,
               related: Callable[[RelatedQuery], Any] | None = None) -> Env:
    """The environment of an evaluation on one record during (or outside) a save."""
    return replace(environment(runtime, actor, now), prior=prior,
                   changed=frozenset(changed) if changed is not None else None,
                   related=related)


async def prepare(conn: AsyncConnection, runtime: AppRuntime, entity: str,
                  record: Mapping[str, Any], compiled: list[Compiled], actor: Actor,
                  now: datetime, *, prior: Mapping[str, Any] | None = None,
                  changed: set[str] | None = None,
                  paths: Iterable[str] = ()) -> tuple[dict[str, Any], Env]:
    """The data and environment to evaluate ``compiled`` on ``record``."""
    data = await evaluation_data(conn, runtime, entity, record, compiled, paths)
    env = record_env(runtime, actor, now, prior=prior, changed=changed)
    related = await related_answers(conn, runtime, entity, record, compiled, env)
    if related is not None:
        env = record_env(runtime, actor, now, prior=prior, changed=changed, related=related)
    return data, env
