"""Filling an entity's table with many generated rows in one statement (for benchmarks and
for tests of very long lists): ``INSERT … SELECT`` over a number series, so a million
rows take seconds, not the pipeline's minutes. Only for scratch databases: nothing is
checked, audited or counted by rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Integer, Table, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

# A column's value for row ``n`` (an integer SQL expression counting from 1).
Generator = Callable[[ColumnElement[int]], ColumnElement]


def padded(n: ColumnElement[int], width: int) -> ColumnElement[str]:
    """``n`` as text with leading zeros, on SQLite and PostgreSQL alike."""
    text = literal("0" * width).concat(n)
    return func.substr(text, func.length(text) - width + 1)


async def fill(conn: AsyncConnection, table: Table, count: int,
               columns: dict[str, Generator], now: datetime) -> None:
    """Insert ``count`` rows into ``table``; ``columns`` gives each column's value for row
    n. The system columns (version, created/updated) are filled in as a create would."""
    series = select(literal(1, Integer).label("n")).cte("series", recursive=True)
    series = series.union_all(select((series.c.n + 1).label("n")).where(series.c.n < count))
    n = series.c.n
    moment = literal(now, table.c.created_at.type)
    values: dict[str, ColumnElement] = {"version": literal(1), "created_at": moment,
                                        "updated_at": moment}
    values.update({name: make(n) for name, make in columns.items()})
    await conn.execute(insert(table).from_select(
        list(values), select(*values.values()).select_from(series)))
