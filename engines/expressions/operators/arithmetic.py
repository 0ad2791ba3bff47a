"""Arithmetic: ``+ - * / %``, ``min``, ``max``, ``round``, ``sum``.

Exact decimals (``0.1 + 0.2 == 0.3``); a blank operand makes a blank result; ``sum`` skips
blanks. A fault (division by zero, text that is not a number) is blank in a condition, as
JSON Logic's NaN would be, and an error with its column in a formula. A date plus a number
of days is a date; a date minus a date is a number of days.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from loom.engines.expressions.errors import NotTranslatable
from loom.engines.expressions.python import Emitter, walk
from loom.engines.expressions.scope import ValueType
from loom.engines.expressions.sql import (
    AddDays,
    DaysBetween,
    ExactDecimal,
    Quotient,
    RoundHalfAway,
    SqlBuilder,
    SqlValue,
)
from loom.engines.expressions.tree import Builder, Expr, Fn, Operator, numeric_literal, register
from loom.engines.expressions.values import (
    ValueTooLarge,
    add,
    add_days,
    divide,
    js_text,
    multiply,
    remainder,
    subtract,
    to_number,
)

Binary = Callable[[Any, Any], Any]


def _number(em: Emitter, expr: Expr, value: Any) -> Any:
    """The number of an operand; None for a blank or (in a condition) a non-number."""
    if value is None:
        return None
    number = to_number(value)
    if number is None:
        em.fault(expr, "expr_not_a_number", value=js_text(value)[:40])
    return number


def _apply(em: Emitter, expr: Expr, operation: Binary, a: Any, b: Any) -> Any:
    try:
        return operation(a, b)
    except ZeroDivisionError:
        em.fault(expr, "expr_division_by_zero")
        return None
    except ValueTooLarge as exc:
        raise em.error(expr, "expr_value_too_large", what=str(exc)) from None


def _temporal(a: Any, b: Any, op: str) -> Any:
    """Date arithmetic, or NotImplemented when neither side is a date."""
    a_date, b_date = isinstance(a, date), isinstance(b, date)
    if not (a_date or b_date):
        return NotImplemented
    if op == "+" and a_date != b_date:
        day, count = (a, b) if a_date else (b, a)
        number = to_number(count)
        return None if number is None else add_days(day, number)
    if op == "-" and a_date and not b_date:
        number = to_number(b)
        return None if number is None else add_days(a, -number)
    if op == "-" and a_date and b_date:
        if isinstance(a, datetime) != isinstance(b, datetime):
            return None
        if isinstance(a, datetime):
            seconds = Decimal((a - b).total_seconds())
            return (seconds / 86400).quantize(Decimal("0.000001"))
        return (a - b).days
    return None


def _binary(operation: Binary, op: str) -> Callable[[Emitter, Expr, Any, Any], Any]:
    def combine(em: Emitter, expr: Expr, a: Any, b: Any) -> Any:
        if a.__class__ is int and b.__class__ is int and op in "+-*":
            return _apply(em, expr, operation, a, b)
        if a is None or b is None:
            return None
        if op in "+-":
            moved = _temporal(a, b, op)
            if moved is not NotImplemented:
                return moved
        x, y = _number(em, expr, a), _number(em, expr, b)
        if x is None or y is None:
            return None
        return _apply(em, expr, operation, x, y)

    return combine


_ADD = _binary(add, "+")
_SUBTRACT = _binary(subtract, "-")
_MULTIPLY = _binary(multiply, "*")
_DIVIDE = _binary(divide, "/")
_REMAINDER = _binary(remainder, "%")


def _fold(combine: Callable[[Emitter, Expr, Any, Any], Any], empty: Any,
          unary: Callable[[Emitter, Expr, Any], Any]) -> Callable[[Expr, list[Fn], Emitter], Fn]:
    def emit(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
        if not fns:
            return lambda _data, _run: empty
        if len(fns) == 1:
            (only,) = fns
            return lambda data, run: unary(em, expr, only(data, run))
        if len(fns) == 2:
            a, b = fns

            def pair(data: Any, run: Any) -> Any:
                return combine(em, expr, a(data, run), b(data, run))

            return pair

        def many(data: Any, run: Any) -> Any:
            values = [fn(data, run) for fn in fns]
            total = values[0]
            for value in values[1:]:
                total = combine(em, expr, total, value)
                if total is None:
                    return None
            return total

        return many

    return emit


def _cast(em: Emitter, expr: Expr, value: Any) -> Any:
    return _number(em, expr, value)


def _negate(em: Emitter, expr: Expr, value: Any) -> Any:
    number = _number(em, expr, value)
    return None if number is None else -number


def _lone(em: Emitter, expr: Expr, value: Any) -> Any:
    return _number(em, expr, value)


def emit_subtract(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
    if len(fns) == 1:
        (only,) = fns
        return lambda data, run: _negate(em, expr, only(data, run))
    a, b = fns
    return lambda data, run: _SUBTRACT(em, expr, a(data, run), b(data, run))


def emit_divide(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
    a, b = fns
    return lambda data, run: _DIVIDE(em, expr, a(data, run), b(data, run))


def emit_remainder(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
    a, b = fns
    return lambda data, run: _REMAINDER(em, expr, a(data, run), b(data, run))


def _extreme(pick: Callable[..., Any]) -> Callable[[Expr, list[Fn], Emitter], Fn]:
    def emit(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
        def extreme(data: Any, run: Any) -> Any:
            numbers = []
            for fn in fns:
                value = fn(data, run)
                if value is None:
                    continue
                number = _number(em, expr, value)
                if number is None:
                    return None
                numbers.append(number)
            return pick(numbers) if numbers else None

        return extreme

    return emit


# --- round and sum ---------------------------------------------------------------------------

def round_half_away(number: int | Decimal, digits: int) -> int | Decimal:
    """ROUND as spreadsheets do it: halves go away from zero; negative digits round to
    tens, hundreds…"""
    value = Decimal(number)
    try:
        rounded = value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueTooLarge("round") from None
    if digits <= 0:
        return int(rounded)
    return rounded


def emit_round(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
    value_of = fns[0]
    digits_of = fns[1] if len(fns) > 1 else None

    def rounded(data: Any, run: Any) -> Any:
        number = _number(em, expr, value_of(data, run))
        digits = _number(em, expr, digits_of(data, run)) if digits_of else 0
        if number is None or digits is None:
            return None
        if not -20 <= digits <= 20:
            raise em.error(expr, "expr_bad_argument", name="ROUND",
                           detail="digits must be between -20 and 20")
        try:
            return round_half_away(number, int(digits))
        except ValueTooLarge as exc:
            raise em.error(expr, "expr_value_too_large", what=str(exc)) from None

    return rounded


def _gather(value: Any, out: list[Any], run: Any) -> None:
    if isinstance(value, list | tuple):
        run.spend(len(value))
        for item in value:
            _gather(item, out, run)
    elif value is not None and value != "":
        out.append(value)


def pluck(data: Any, parts: tuple[str, ...]) -> Any:
    """A dot path that maps over lists: ``items.amount`` gives every item's amount."""
    for i, part in enumerate(parts):
        if isinstance(data, list | tuple) and not (part.isascii() and part.isdigit()):
            return [pluck(item, parts[i:]) for item in data]
        data = walk(data, (part,))
        if data is None:
            return None
    return data


def build_sum(builder: Builder, args: list[Any], context: Any) -> Expr:
    children = [builder.read_child(arg, context) for arg in args]
    for child in children:
        if child.op == "var" and not child.value.dynamic and not child.args:
            child.op = "pluck"
    return Expr("sum", children)


def emit_pluck(expr: Expr, _fns: list[Fn], _em: Emitter) -> Fn:
    parts = expr.value.parts
    return lambda data, _run: pluck(data, parts)


def emit_sum(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
    def total(data: Any, run: Any) -> Any:
        values: list[Any] = []
        for fn in fns:
            _gather(fn(data, run), values, run)
        result: Any = 0
        for value in values:
            number = _number(em, expr, value)
            if number is None:
                return None
            result = _apply(em, expr, add, result, number)
        return result

    return total


# --- types -----------------------------------------------------------------------------------

def prepare_numbers(expr: Expr, _builder: Builder) -> None:
    for arg in expr.args:
        numeric_literal(arg)


def result_arithmetic(expr: Expr) -> ValueType:
    kinds = [arg.type for arg in expr.args]
    if expr.op in ("+", "-") and any(kind.temporal for kind in kinds):
        if expr.op == "-" and len(kinds) == 2 and all(kind.temporal for kind in kinds):
            return ValueType.INTEGER if kinds[0] is ValueType.DATE else ValueType.NUMBER
        return next(kind for kind in kinds if kind.temporal)
    if expr.op in ("+", "-", "*", "%") and kinds and all(k is ValueType.INTEGER for k in kinds):
        expr.scale = 0
        return ValueType.INTEGER
    scales = [arg.scale for arg in expr.args]
    if all(scale is not None for scale in scales) and scales:
        expr.scale = (sum(scales) if expr.op == "*" else max(scales)) \
            if expr.op in ("+", "-", "*") else None
    return ValueType.NUMBER


# --- SQL -------------------------------------------------------------------------------------

def _numeric(sql: SqlBuilder, value: SqlValue, op: str) -> SqlValue:
    if value.type.numeric or (sql.dry and value.type is ValueType.ANY):
        return value
    if value.const and value.value is None:
        return value
    raise NotTranslatable(f"'{op}' on {value.type.value} has no SQL form")


def _exact(result: Any, kind: ValueType, scale: int | None) -> SqlValue:
    if kind is ValueType.NUMBER and scale is not None:
        result = ExactDecimal(result, scale)
    return SqlValue(result, kind, scale)


def _combine(op: str, a: SqlValue, b: SqlValue) -> SqlValue:
    if op == "+":
        result = a.sql + b.sql
    elif op == "-":
        result = a.sql - b.sql
    else:
        result = a.sql * b.sql
    integer = a.type is ValueType.INTEGER and b.type is ValueType.INTEGER
    kind = ValueType.INTEGER if integer else ValueType.NUMBER
    if a.scale is None or b.scale is None:
        scale = None
    else:
        scale = a.scale + b.scale if op == "*" else max(a.scale, b.scale)
    return _exact(result, kind, 0 if integer else scale)


def _sql_fold(op: str) -> Callable[[SqlBuilder, Expr], SqlValue]:
    def translate(sql: SqlBuilder, expr: Expr) -> SqlValue:
        values = [sql.value(arg) for arg in expr.args]
        if op in "+-" and any(value.type.temporal for value in values):
            return _sql_temporal(sql, op, values)
        values = [_numeric(sql, value, op) for value in values]
        if len(values) == 1:
            only = values[0]
            if op == "-":
                return SqlValue(-only.sql, only.type, only.scale)
            return only
        total = values[0]
        for value in values[1:]:
            total = _combine(op, total, value)
        return total

    return translate


def _sql_temporal(sql: SqlBuilder, op: str, values: list[SqlValue]) -> SqlValue:
    if len(values) != 2:
        raise NotTranslatable("date arithmetic takes two values")
    a, b = values
    if op == "-" and a.type is ValueType.DATE and b.type is ValueType.DATE:
        return SqlValue(DaysBetween(b.sql, a.sql), ValueType.INTEGER, 0)
    day, count = (a, b) if a.type.temporal else (b, a)
    if day.type is not ValueType.DATE or count.type is not ValueType.INTEGER:
        raise NotTranslatable("only whole days added to a date have an exact SQL form")
    amount = -count.sql if op == "-" else count.sql
    if op == "-" and day is b:
        raise NotTranslatable("a number minus a date has no meaning")
    return SqlValue(AddDays(day.sql, amount), ValueType.DATE)


def sql_divide(sql: SqlBuilder, expr: Expr) -> SqlValue:
    a, b = (_numeric(sql, sql.value(arg), "/") for arg in expr.args)
    return SqlValue(Quotient(a.sql, b.sql), ValueType.NUMBER)


def _sql_unsupported(op: str) -> Callable[[SqlBuilder, Expr], SqlValue]:
    def translate(_sql: SqlBuilder, _expr: Expr) -> SqlValue:
        raise NotTranslatable(f"'{op}' has no SQL form")

    return translate


def sql_round(sql: SqlBuilder, expr: Expr) -> SqlValue:
    value = _numeric(sql, sql.value(expr.args[0]), "round")
    digits = sql.value(expr.args[1]) if len(expr.args) > 1 else sql.bind(0)
    if not digits.const or not isinstance(digits.value, int) or not 0 <= digits.value <= 20:
        raise NotTranslatable("round needs a fixed number of digits from 0 to 20")
    if value.type is ValueType.INTEGER:
        return value
    if value.scale is None:
        raise NotTranslatable("round of a number of unknown scale has no exact SQL form")
    if value.scale <= digits.value:
        return value
    return SqlValue(RoundHalfAway(value.sql, digits.value, value.scale), ValueType.NUMBER,
                    digits.value)


register(Operator("+", _fold(_ADD, 0, _cast), prepare=prepare_numbers,
                  result=result_arithmetic, sql_value=_sql_fold("+")))
register(Operator("*", _fold(_MULTIPLY, None, _lone), arity=(1, None), prepare=prepare_numbers,
                  result=result_arithmetic, sql_value=_sql_fold("*")))
register(Operator("-", emit_subtract, arity=(1, 2), prepare=prepare_numbers,
                  result=result_arithmetic, sql_value=_sql_fold("-")))
register(Operator("/", emit_divide, arity=(2, 2), prepare=prepare_numbers,
                  result=ValueType.NUMBER, sql_value=sql_divide))
register(Operator("%", emit_remainder, arity=(2, 2), prepare=prepare_numbers,
                  result=result_arithmetic, sql_value=_sql_unsupported("%")))
register(Operator("min", _extreme(min), prepare=prepare_numbers, result=ValueType.NUMBER,
                  formula="MIN"))
register(Operator("max", _extreme(max), prepare=prepare_numbers, result=ValueType.NUMBER,
                  formula="MAX"))
register(Operator("round", emit_round, arity=(1, 2), prepare=prepare_numbers,
                  result=ValueType.NUMBER, sql_value=sql_round, formula="ROUND"))
register(Operator("sum", emit_sum, build=build_sum, result=ValueType.NUMBER, formula="SUM"))
register(Operator("pluck", emit_pluck, result=ValueType.LIST, reads_data=True,
                  internal=True))
