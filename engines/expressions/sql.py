"""The SQL backend: a node becomes a SQLAlchemy expression on the entity's table.

Three rules keep SQL's answers identical to Python's:

* Every predicate is two-valued: a comparison with a blank (NULL) is false, never
  unknown, so ``NOT`` and ``OR`` around it agree with Python.
* Where a dialect differs (substring search, text order, date arithmetic, decimal
  arithmetic on SQLite's binary floats), a construct below compiles per dialect.
* What does not depend on the record (literals, ``today``, ``date_add(now, -7, "days")``,
  the current user) is computed in Python, exactly, and bound as a parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Numeric,
    String,
    and_,
    false,
    literal,
    null,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from loom.engines.expressions.env import Env
from loom.engines.expressions.errors import BeyondColumn, NotTranslatable
from loom.engines.expressions.scope import ValueType
from loom.engines.expressions.tree import OPERATORS, Expr
from loom.engines.expressions.values import number_scale, truthy

Resolve = Callable[[str], ColumnElement[Any]]
# entity name -> (its table or join, a resolver of its field paths)
RelatedSource = Callable[[str], tuple[Any, Resolve]]
BIGINT_MAX = 2**63 - 1  # whole-number columns (ids, lookups, integers) hold 64 bits


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored in UTC, as the platform's entity tables store them."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class SqlValue:
    """A translated value: its SQL, its type, and its Python value when it is a constant."""

    sql: ColumnElement[Any]
    type: ValueType
    scale: int | None = None
    const: bool = False
    value: Any = None
    path: str | None = None

    @property
    def nullable(self) -> bool:
        return not self.const or self.value is None


class SqlBuilder:
    """Translates one expression for one query: ``resolve`` maps field paths to columns,
    ``env`` gives the constants (today, now, the user)."""

    def __init__(self, resolve: Resolve, env: Env, *, dialect: str | None = None,
                 related: RelatedSource | None = None, dry: bool = False) -> None:
        self.resolve = resolve
        self.env = env
        self.dialect = dialect
        self.related = related
        self.dry = dry  # a compile-time trial: unknown column types are let through

    # --- values and predicates ----------------------------------------------------------

    def value(self, expr: Expr) -> SqlValue:
        if not expr.reads_data:
            return self.constant(expr)
        if expr.op == "var":
            return self.column(expr)
        op = OPERATORS.get(expr.op)
        if op is None:
            raise NotTranslatable(f"'{expr.op}' has no SQL form")
        if op.sql_value is not None:
            return op.sql_value(self, expr)
        if op.sql_predicate is not None:
            return SqlValue(op.sql_predicate(self, expr), ValueType.BOOLEAN)
        raise NotTranslatable(f"'{expr.op}' has no SQL form")

    def predicate(self, expr: Expr) -> ColumnElement[bool]:
        """A two-valued condition: true exactly where Python finds the value truthy."""
        if not expr.reads_data:
            return true() if truthy(self.constant(expr).value) else false()
        op = OPERATORS.get(expr.op)
        if op is not None and op.sql_predicate is not None:
            return op.sql_predicate(self, expr)
        return self.truth(self.value(expr))

    def truth(self, value: SqlValue) -> ColumnElement[bool]:
        if value.const:
            return true() if truthy(value.value) else false()
        kind, sql = value.type, value.sql
        if kind is ValueType.BOOLEAN:
            return sql.is_(true())
        if kind.numeric:
            return and_(sql.is_not(None), sql != 0)
        if kind is ValueType.TEXT:
            return and_(sql.is_not(None), sql != "")
        if kind.temporal or (kind is ValueType.ANY and self.dry):
            return sql.is_not(None)
        raise NotTranslatable(f"the truth of {self.named(value)} has no SQL form")

    def column(self, expr: Expr) -> SqlValue:
        spec = expr.value
        if spec.dynamic or spec.path is None or expr.args:
            raise NotTranslatable("a computed field name or a default has no SQL form")
        sql = self.resolve(spec.path)
        kind = expr.type
        if kind is ValueType.ANY:
            kind = column_type(sql.type)
        scale = expr.scale if expr.scale is not None else getattr(sql.type, "scale", None)
        if kind is ValueType.INTEGER:
            scale = 0
        return SqlValue(sql, kind, scale, path=spec.path)

    def constant(self, expr: Expr) -> SqlValue:
        from loom.engines.expressions.python import Run

        assert expr.fn is not None
        return self.bind(expr.fn(None, Run(self.env)))

    def bind(self, value: Any) -> SqlValue:
        """A Python value as a typed SQL parameter."""
        if value is None:
            return SqlValue(null(), ValueType.NULL, const=True, value=None)
        if isinstance(value, bool):
            return SqlValue(true() if value else false(), ValueType.BOOLEAN, const=True,
                            value=value)
        if isinstance(value, int) and -BIGINT_MAX <= value <= BIGINT_MAX:
            return SqlValue(literal(value, BigInteger()), ValueType.INTEGER, 0, True, value)
        if isinstance(value, int):  # beyond 64 bits: exact as a decimal, which binds
            return SqlValue(literal(Decimal(value), Numeric(asdecimal=True)),
                            ValueType.INTEGER, 0, True, value)
        if isinstance(value, float):
            value = Decimal(repr(value))
        if isinstance(value, Decimal):
            return SqlValue(literal(value, Numeric(asdecimal=True)), ValueType.NUMBER,
                            number_scale(value), True, value)
        if isinstance(value, str):
            return SqlValue(literal(value, String()), ValueType.TEXT, const=True, value=value)
        if isinstance(value, datetime):
            return SqlValue(literal(value, UtcDateTime()), ValueType.DATETIME, const=True,
                            value=value)
        if isinstance(value, date):
            return SqlValue(literal(value, Date()), ValueType.DATE, const=True, value=value)
        if isinstance(value, list | tuple):
            return SqlValue(null(), ValueType.LIST, const=True, value=list(value))
        raise NotTranslatable(f"the value {value!r} has no SQL form")

    def require_fits(self, column: SqlValue, value: Any) -> None:
        """Refuse a number compared with a whole-number field that the field's column
        could never hold (the database would fail on it, not find nothing)."""
        if column.path is None or column.type is not ValueType.INTEGER or \
                isinstance(value, bool) or not isinstance(value, int | Decimal):
            return
        if not (value.is_finite() if isinstance(value, Decimal) else True) or \
                not -BIGINT_MAX <= value <= BIGINT_MAX:
            raise BeyondColumn(column.path, value)

    def named(self, value: SqlValue) -> str:
        return f"'{value.path}'" if value.path else "this value"

    @property
    def zone(self) -> tzinfo:
        return self.env.timezone


def column_type(kind: TypeEngine[Any]) -> ValueType:
    """The value type of a column, for callers that pass no Scope."""
    if isinstance(kind, TypeDecorator):
        kind = kind.impl if isinstance(kind.impl, TypeEngine) else kind.impl()
    if isinstance(kind, Boolean):
        return ValueType.BOOLEAN
    if isinstance(kind, DateTime):
        return ValueType.DATETIME
    if isinstance(kind, Date):
        return ValueType.DATE
    if isinstance(kind, Numeric) and not _is_integer(kind):
        return ValueType.NUMBER
    if _is_integer(kind):
        return ValueType.INTEGER
    if isinstance(kind, String):
        return ValueType.TEXT
    return ValueType.ANY


def _is_integer(kind: TypeEngine[Any]) -> bool:
    from sqlalchemy import Integer

    return isinstance(kind, Integer)


# --- constructs that compile per dialect -----------------------------------------------------

class TextContains(FunctionElement[bool]):
    """``needle`` occurs in ``haystack`` (case-sensitive, no wildcards)."""

    type = Boolean()
    inherit_cache = True
    name = "text_contains"


@compiles(TextContains)
def _contains_default(element: TextContains, compiler: Any, **kw: Any) -> str:
    haystack, needle = element.clauses
    return f"(instr({compiler.process(haystack, **kw)}, {compiler.process(needle, **kw)}) > 0)"


@compiles(TextContains, "postgresql")
def _contains_pg(element: TextContains, compiler: Any, **kw: Any) -> str:
    haystack, needle = element.clauses
    return f"(strpos({compiler.process(haystack, **kw)}, {compiler.process(needle, **kw)}) > 0)"


class Binary(FunctionElement[str]):
    """Text ordered by code point, as Python orders it (PostgreSQL: COLLATE "C")."""

    type = String()
    inherit_cache = True
    name = "binary_text"


@compiles(Binary)
def _binary_default(element: Binary, compiler: Any, **kw: Any) -> str:
    (inner,) = element.clauses
    return f"({compiler.process(inner, **kw)})"


@compiles(Binary, "postgresql")
def _binary_pg(element: Binary, compiler: Any, **kw: Any) -> str:
    (inner,) = element.clauses
    return f'({compiler.process(inner, **kw)} COLLATE "C")'


class ExactDecimal(FunctionElement[Decimal]):
    """A decimal result. PostgreSQL's numeric is exact; SQLite computes in binary floats,
    so the result is rounded to the scale the exact result has."""

    type = Numeric(asdecimal=True)
    inherit_cache = False  # the scale is part of the SQL text
    name = "exact_decimal"

    def __init__(self, inner: Any, scale: int) -> None:
        self.scale = int(scale)
        super().__init__(inner)


@compiles(ExactDecimal)
def _exact_default(element: ExactDecimal, compiler: Any, **kw: Any) -> str:
    (inner,) = element.clauses
    return f"round({compiler.process(inner, **kw)}, {element.scale})"


@compiles(ExactDecimal, "postgresql")
def _exact_pg(element: ExactDecimal, compiler: Any, **kw: Any) -> str:
    (inner,) = element.clauses
    # a function to SQLAlchemy, so never grouped: d * (0 + d) must not become d * 0 + d
    return f"({compiler.process(inner, **kw)})"


class Quotient(FunctionElement[Decimal]):
    """``a / b`` as a fraction (never integer division); blank when ``b`` is zero."""

    type = Numeric(asdecimal=True)
    inherit_cache = True
    name = "quotient"


@compiles(Quotient)
def _quotient_default(element: Quotient, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({a} AS REAL) / NULLIF({b}, 0))"


@compiles(Quotient, "postgresql")
def _quotient_pg(element: Quotient, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({a} AS NUMERIC) / NULLIF({b}, 0))"


class DaysBetween(FunctionElement[int]):
    """Whole days from date ``a`` to date ``b``."""

    type = BigInteger()
    inherit_cache = True
    name = "days_between"


@compiles(DaysBetween)
def _days_default(element: DaysBetween, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday({b}) - julianday({a}) AS INTEGER)"


@compiles(DaysBetween, "postgresql")
def _days_pg(element: DaysBetween, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({b} AS DATE) - CAST({a} AS DATE))"


class AddDays(FunctionElement[date]):
    type = Date()
    inherit_cache = True
    name = "add_days"


@compiles(AddDays)
def _add_days_default(element: AddDays, compiler: Any, **kw: Any) -> str:
    day, count = (compiler.process(c, **kw) for c in element.clauses)
    return f"date({day}, printf('%+d days', {count}))"


@compiles(AddDays, "postgresql")
def _add_days_pg(element: AddDays, compiler: Any, **kw: Any) -> str:
    day, count = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({day} AS DATE) + CAST({count} AS INTEGER))"


class AddMonths(FunctionElement[date]):
    """Months added to a date; the last day of a month stays the last day (Jan 31 + 1
    month = Feb 28/29, Feb 28 2025 + 1 month = Mar 31), other days are clamped."""

    type = Date()
    inherit_cache = True
    name = "add_months"


@compiles(AddMonths)
def _add_months_default(element: AddMonths, compiler: Any, **kw: Any) -> str:
    day, count = (compiler.process(c, **kw) for c in element.clauses)
    first = f"date({day}, 'start of month')"
    target = f"date({first}, printf('%+d months', {count}))"
    target_end = f"date({target}, '+1 month', '-1 day')"
    is_end = f"({day} = date({first}, '+1 month', '-1 day'))"
    same_day = f"date({target}, printf('+%d days', CAST(strftime('%d', {day}) AS INTEGER) - 1))"
    return (f"(CASE WHEN {is_end} OR {same_day} > {target_end} THEN {target_end} "
            f"ELSE {same_day} END)")


@compiles(AddMonths, "postgresql")
def _add_months_pg(element: AddMonths, compiler: Any, **kw: Any) -> str:
    day, count = (compiler.process(c, **kw) for c in element.clauses)
    day = f"CAST({day} AS DATE)"
    months = f"make_interval(months => CAST({count} AS INTEGER))"
    first = f"date_trunc('month', {day})"
    is_end = f"({day} = CAST({first} + interval '1 month' - interval '1 day' AS DATE))"
    return (f"(CASE WHEN {is_end} THEN CAST({first} + {months} + interval '1 month' "
            f"- interval '1 day' AS DATE) ELSE CAST({day} + {months} AS DATE) END)")


class LocalDate(FunctionElement[date]):
    """The calendar date of a UTC instant in a time zone."""

    type = Date()
    inherit_cache = False  # the zone is part of the SQL text
    name = "local_date"

    def __init__(self, moment: Any, zone: tzinfo) -> None:
        self.zone_name = getattr(zone, "key", None) or ("UTC" if zone is UTC else None)
        self.offset = fixed_offset(zone)
        super().__init__(moment)


@compiles(LocalDate)
def _local_date_default(element: LocalDate, compiler: Any, **kw: Any) -> str:
    (moment,) = element.clauses
    if element.offset is None:
        raise NotTranslatable("SQLite cannot read local dates in a time zone with "
                              "daylight saving time")
    return f"date({compiler.process(moment, **kw)}, '{element.offset:+d} minutes')"


@compiles(LocalDate, "postgresql")
def _local_date_pg(element: LocalDate, compiler: Any, **kw: Any) -> str:
    (moment,) = element.clauses
    if element.zone_name is None:
        raise NotTranslatable("the time zone has no name PostgreSQL knows")
    zone = element.zone_name.replace("'", "")
    return f"CAST(({compiler.process(moment, **kw)}) AT TIME ZONE '{zone}' AS DATE)"


def fixed_offset(zone: tzinfo) -> int | None:
    """The zone's UTC offset in minutes when it never changes (no daylight saving over
    the years that matter), else None."""
    offsets = set()
    for year in range(1995, 2045, 7):
        for month in (1, 4, 7, 10):
            offset = datetime(year, month, 15, tzinfo=zone).utcoffset() or timedelta(0)
            offsets.add(int(offset.total_seconds() // 60))
    return offsets.pop() if len(offsets) == 1 else None


class RoundHalfAway(FunctionElement[Decimal]):
    """ROUND(x, n) with halves away from zero. PostgreSQL's numeric round does exactly
    that; on SQLite's binary floats a tie is nudged by a tenth of the value's last decimal
    place first (``scale`` is the value's own scale), so 1.005 rounds to 1.01 as in Python."""

    type = Numeric(asdecimal=True)
    inherit_cache = False  # digits and scale are part of the SQL text
    name = "round_half_away"

    def __init__(self, value: Any, digits: int, scale: int) -> None:
        self.digits = int(digits)
        self.nudge = format(Decimal(1).scaleb(-(int(scale) + 1)), "f")
        super().__init__(value)


@compiles(RoundHalfAway)
def _round_default(element: RoundHalfAway, compiler: Any, **kw: Any) -> str:
    (value,) = (compiler.process(c, **kw) for c in element.clauses)
    nudge = element.nudge
    return (f"round({value} + (CASE WHEN {value} < 0 THEN -{nudge} ELSE {nudge} END), "
            f"{element.digits})")


@compiles(RoundHalfAway, "postgresql")
def _round_pg(element: RoundHalfAway, compiler: Any, **kw: Any) -> str:
    (value,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"round({value}, {element.digits})"
