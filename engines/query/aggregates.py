"""Aggregates as SQL: the pure building blocks of dashboard queries (GROUP BY, never a loop
over records).

Everything here turns one measure into SQLAlchemy Core columns plus a ``finish`` that reads
the raw result exactly: sums of decimals stay ``Decimal`` on both databases (on SQLite,
whose numbers are binary floats, a decimal sum is taken over scaled integers), averages are
``sum / count`` in decimal arithmetic, and a measure's own filter becomes a CASE inside the
aggregate so several measures share one scan. Values and conditions are translated by the
one expression compiler.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, and_, case, cast, distinct, func, literal
from sqlalchemy.sql import ColumnElement

from loom.engines.expressions import (
    Env,
    NotTranslatable,
    Scope,
    compile_condition,
    compile_formula,
)
from loom.engines.expressions.scope import ValueType
from loom.engines.expressions.sql import RelatedSource, Resolve, SqlBuilder, SqlValue, UtcDateTime
from loom.engines.query.periods import Period, TimeBucket

# an average keeps the decimals of what it averages, and at least this many
AVERAGE_MIN_SCALE = 2


@dataclass
class Source:
    """One entity's table as a query sees it: how field paths become columns, the
    constants of the moment (today, the user) and the dialect."""

    table: Any
    resolve: Resolve
    scope: Scope
    env: Env
    dialect: str
    related: RelatedSource | None = None

    def condition(self, rule: Any) -> ColumnElement[bool]:
        compiled = compile_condition(rule, self.scope)
        return compiled.to_sql(self.resolve, self.env, dialect=self.dialect,
                               related=self.related)

    def value(self, field: str | None, expression: str | None) -> SqlValue | None:
        """What a measure aggregates: a field's column, a formula's value, or nothing
        (a count of records)."""
        builder = SqlBuilder(self.resolve, self.env, dialect=self.dialect,
                             related=self.related)
        if expression:
            compiled = compile_formula(expression, self.scope)
            if compiled.sql_problem is not None:
                raise NotTranslatable(compiled.sql_problem)
            return builder.value(compiled.tree)
        if field:
            info = self.scope.lookup(field)
            sql = self.resolve(field)
            kind = info.type if info is not None else ValueType.ANY
            scale = info.scale if info is not None else None
            return SqlValue(sql, kind, scale, path=field)
        return None


@dataclass
class AggregateSql:
    """The columns one aggregate adds to a SELECT, and how to read them back."""

    columns: list[ColumnElement[Any]]
    finish: Callable[[Mapping[str, Any]], Any]


def _scaled(value: Any, scale: int) -> Decimal | None:
    if value is None:
        return None
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def aggregate_sql(name: str, function: str, value: SqlValue | None,
                  only: ColumnElement[bool] | None, dialect: str) -> AggregateSql:
    """``function`` of ``value`` over the rows (``only``: those where it holds), labelled
    ``name`` (and ``name__n`` for the count an average divides by)."""
    if function == "count" and value is None:
        column = func.count(case((only, 1))) if only is not None else func.count()
        return AggregateSql([column.label(name)], lambda row: int(row[name] or 0))
    assert value is not None
    sql = case((only, value.sql)) if only is not None else value.sql
    if function == "count":
        return AggregateSql([func.count(sql).label(name)], lambda row: int(row[name] or 0))
    if function == "count_distinct":
        return AggregateSql([func.count(distinct(sql)).label(name)],
                            lambda row: int(row[name] or 0))
    if function in ("min", "max"):
        column = (func.min if function == "min" else func.max)(sql).label(name)
        return AggregateSql([column], _extreme_reader(name, value))
    total, read_total = _exact_sum(name, value, sql, dialect)
    if function == "sum":
        return AggregateSql([total], read_total)
    counted = f"{name}__n"
    scale = max(value.scale or 0, AVERAGE_MIN_SCALE)

    def average(row: Mapping[str, Any]) -> Decimal | None:
        count = row[counted] or 0
        summed = read_total(row)
        return _scaled(Decimal(summed) / count, scale) if count and summed is not None \
            else None

    return AggregateSql([total, func.count(sql).label(counted)], average)


def _exact_sum(name: str, value: SqlValue, sql: ColumnElement[Any],
               dialect: str) -> tuple[ColumnElement[Any], Callable[[Mapping[str, Any]], Any]]:
    if value.type is ValueType.INTEGER or value.type is ValueType.BOOLEAN:
        column = func.sum(cast(sql, BigInteger())) if value.type is ValueType.BOOLEAN \
            else func.sum(sql)
        return column.label(name), lambda row: int(row[name] or 0)
    scale = value.scale if value.scale is not None else 6
    if dialect == "sqlite":
        # SQLite keeps decimals as binary floats: sum whole units of the last digit instead
        units = cast(func.round(sql * literal(10 ** scale)), Integer())
        return func.sum(units).label(name), \
            lambda row: _scaled(Decimal(int(row[name] or 0)).scaleb(-scale), scale)
    return func.sum(sql).label(name), lambda row: _scaled(row[name] or 0, scale)


def _extreme_reader(name: str, value: SqlValue) -> Callable[[Mapping[str, Any]], Any]:
    if value.type is ValueType.NUMBER:
        scale = value.scale if value.scale is not None else 6
        return lambda row: _scaled(row[name], scale)
    if value.type is ValueType.INTEGER:
        return lambda row: int(row[name]) if row[name] is not None else None
    if value.type is ValueType.DATE:
        return lambda row: date.fromisoformat(row[name]) if isinstance(row[name], str) \
            else row[name]
    if value.type is ValueType.DATETIME:
        return lambda row: _as_utc(row[name])
    return lambda row: row[name]


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- dates: periods and buckets ------------------------------------------------------------

def day_boundary(day: date, temporal: ValueType, zone: tzinfo) -> ColumnElement[Any]:
    """The start of a calendar day as a parameter comparable with a date or a UTC instant
    column (local midnight in the app's zone, so buckets follow its calendar)."""
    if temporal is ValueType.DATETIME:
        return literal(datetime.combine(day, time(), zone).astimezone(UTC), UtcDateTime())
    return literal(day)


def period_clause(column: ColumnElement[Any], temporal: ValueType, period: Period,
                  zone: tzinfo) -> ColumnElement[bool] | None:
    terms = []
    if period.start is not None:
        terms.append(column >= day_boundary(period.start, temporal, zone))
    if period.end is not None:
        terms.append(column < day_boundary(period.end, temporal, zone))
    return and_(*terms) if terms else None


def bucket_index(column: ColumnElement[Any], temporal: ValueType, spans: list[TimeBucket],
                 zone: tzinfo) -> ColumnElement[Any]:
    """The position of the bucket a row's date falls in (NULL outside them all): one CASE
    over known boundaries, the same on every database and exact in any time zone."""
    whens = [(and_(column >= day_boundary(span.start, temporal, zone),
                   column < day_boundary(span.end, temporal, zone)), position)
             for position, span in enumerate(spans)]
    return case(*whens, else_=None)
