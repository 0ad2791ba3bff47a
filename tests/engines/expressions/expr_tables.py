"""A test table for translating conditions to SQL, and a helper that checks SQL and Python
agree on it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.expressions import Compiled, Env, NotTranslatable, Scope, ValueType
from loom.engines.expressions.sql import UtcDateTime

metadata = MetaData()
deals = Table(
    "expr_deals", metadata,
    Column("id", Integer, primary_key=True),
    Column("i", BigInteger), Column("d", Numeric(18, 2)), Column("s", Text),
    Column("b", Boolean), Column("day", Date), Column("ts", UtcDateTime),
)
calls = Table(
    "expr_calls", metadata,
    Column("id", Integer, primary_key=True),
    Column("deal", Integer, ForeignKey("expr_deals.id")),
    Column("kind", Text), Column("minutes", BigInteger), Column("day", Date),
)
DEAL_SCOPE = Scope.of_types({
    "id": ValueType.INTEGER, "i": ValueType.INTEGER, "d": (ValueType.NUMBER, 2),
    "s": ValueType.TEXT, "b": ValueType.BOOLEAN, "day": ValueType.DATE,
    "ts": ValueType.DATETIME,
})
COLUMNS = ("i", "d", "s", "b", "day", "ts")


def resolve(path: str) -> Any:
    if path in deals.c:
        return deals.c[path]
    raise NotTranslatable(f"no column {path}")


def related(entity: str) -> tuple[Any, Any]:
    if entity != "call":
        raise NotTranslatable(f"no entity {entity}")

    def resolve_call(path: str) -> Any:
        return calls.c[path]

    return calls, resolve_call


async def reset(conn: AsyncConnection, rows: Iterable[Mapping[str, Any]],
                call_rows: Iterable[Mapping[str, Any]] = ()) -> None:
    await conn.execute(calls.delete())
    await conn.execute(deals.delete())
    rows = [dict({name: None for name in COLUMNS}, **row) for row in rows]
    if rows:
        await conn.execute(deals.insert(), rows)
    call_rows = list(call_rows)
    if call_rows:
        await conn.execute(calls.insert(), call_rows)


async def sql_ids(conn: AsyncConnection, compiled: Compiled, env: Env) -> set[int]:
    where = compiled.to_sql(resolve, env, dialect=conn.dialect.name, related=related)
    return set((await conn.execute(select(deals.c.id).where(where))).scalars())


def python_ids(compiled: Compiled, rows: Iterable[Mapping[str, Any]], env: Env) -> set[int]:
    return {row["id"] for row in rows if compiled.holds(dict(row), env)}
