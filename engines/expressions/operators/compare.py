"""Comparisons: ``==`` ``===`` ``!=`` ``!==`` ``<`` ``<=`` ``>`` ``>=`` (``<`` and ``<=``
with three arguments test "between"), and ``in``.

Equality is JSON Logic's (JavaScript's loose ``==``: ``1 == "1"``), a blank equals only a
blank; an ordering comparison with a blank is false. Text compares by code point, case
sensitive, in Python and in SQL alike. A date compares with a datetime through the
datetime's calendar date in the environment's time zone.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, false, not_, or_, true
from sqlalchemy.sql import ColumnElement

from loom.engines.expressions.errors import NotTranslatable
from loom.engines.expressions.python import Emitter
from loom.engines.expressions.scope import ValueType
from loom.engines.expressions.sql import Binary, LocalDate, SqlBuilder, SqlValue, TextContains
from loom.engines.expressions.tree import (
    Builder,
    Expr,
    Fn,
    Operator,
    describe,
    numeric_literal,
    register,
)
from loom.engines.expressions.tree import literal as literal_expr
from loom.engines.expressions.values import (
    day_start,
    js_text,
    less,
    less_or_equal,
    loose_equals,
    parse_date,
    parse_datetime,
    strict_equals,
    text_number,
    to_number,
)

FAST = (str, int, Decimal)

# --- preparing: exact literals, literal dates, type checks -----------------------------------


def prepare_compare(expr: Expr, builder: Builder) -> None:
    for arg in expr.args:
        numeric_literal(arg)
    typed = [arg for arg in expr.args if not arg.is_literal and arg.type is not ValueType.ANY]
    for i, arg in enumerate(expr.args):
        if arg.is_literal and isinstance(arg.value, str) and typed:
            expr.args[i] = _coerce_text(arg, typed[0].type)
    _check_types(expr, builder)


def _coerce_text(arg: Expr, kind: ValueType) -> Expr:
    """A text literal compared with a date field is a date literal."""
    from datetime import UTC

    if kind is ValueType.DATE or kind is ValueType.DATETIME:
        day = parse_date(arg.value)
        if day is not None:
            return _with_position(literal_expr(day), arg)
        moment = parse_datetime(arg.value, UTC) if _has_zone(arg.value) else None
        if moment is not None:
            return _with_position(literal_expr(moment), arg)
    return arg


def _has_zone(text: str) -> bool:
    return text.endswith("Z") or (len(text) > 19 and text[-6] in "+-")


def _with_position(new: Expr, old: Expr) -> Expr:
    new.position = old.position
    return new


def _compatible(left: Expr, right: Expr) -> bool:
    a, b = left.type, right.type
    if ValueType.ANY in (a, b) or ValueType.NULL in (a, b) or a.family == b.family:
        return True
    if a.temporal and b.temporal:
        return True
    for one, other in ((left, right), (right, left)):
        if one.type.numeric and other.is_literal and isinstance(other.value, str):
            return text_number(other.value) is not None
        if one.type.numeric and other.type is ValueType.BOOLEAN:
            return True
    return False


def _check_types(expr: Expr, builder: Builder) -> None:
    args = expr.args
    for left, right in itertools.pairwise(args):
        if not _compatible(left, right):
            builder.problem("expr_type_mismatch", position=expr.position,
                            field_path=_path(left) or _path(right),
                            operator=builder.name_of_op(expr.op), left=_describe(left),
                            right=_describe(right))
            return
    if expr.op in ("==", "!=", "===", "!=="):
        _check_option(expr, builder)


def _check_option(expr: Expr, builder: Builder) -> None:
    scope = builder.frame_scope
    left, right = expr.args
    for field_arg, value_arg in ((left, right), (right, left)):
        path = _path(field_arg)
        if scope is None or path is None or not value_arg.is_literal:
            continue
        info = scope.lookup(path)
        if info is None or not info.options or not isinstance(value_arg.value, str):
            continue
        if value_arg.value not in info.options:
            import difflib

            from loom.metamodel.i18n import message

            close = difflib.get_close_matches(value_arg.value, info.options, n=1)
            hint = message("expr_did_you_mean", suggestion=close[0]) if close else ""
            builder.problem("expr_not_an_option", field_path=path, position=expr.position,
                            value=value_arg.value, name=info.label or path, hint=hint)


def _path(expr: Expr) -> str | None:
    if expr.op == "var" and not expr.value.dynamic:
        return expr.value.path
    return None


def _describe(expr: Expr) -> Any:
    if expr.is_literal and isinstance(expr.value, str):
        return f'"{expr.value}"'
    return describe(expr.type)


# --- Python ----------------------------------------------------------------------------------

def _fast_field(expr: Expr) -> str | None:
    """The key of a plain one-level ``var`` without default, for fused closures."""
    if expr.op != "var" or expr.args:
        return None
    spec = expr.value
    if spec.dynamic or len(spec.parts) != 1:
        return None
    return spec.parts[0]


def _fast_literal(expr: Expr) -> bool:
    return expr.is_literal and expr.value.__class__ in (str, int, Decimal, bool)


def emit_equal(expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    left, right = expr.args
    a, b = fns
    key = _fast_field(left)
    if key is not None and _fast_literal(right):
        return _fused_equal(key, a, right.value)

    def equal(data: Any, run: Any) -> bool:
        return loose_equals(a(data, run), b(data, run), run.zone)

    return equal


def _fused_equal(key: str, field: Fn, value: Any) -> Fn:
    kind = value.__class__
    numeric = kind is int or kind is Decimal

    def equal(data: Any, run: Any) -> bool:
        found = data.get(key) if data.__class__ is dict else field(data, run)
        seen = found.__class__
        if seen is kind or (numeric and (seen is int or seen is Decimal)):
            return found == value
        return loose_equals(found, value, run.zone)

    return equal


def emit_not_equal(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
    equal = emit_equal(expr, fns, em)
    return lambda data, run: not equal(data, run)


def emit_strict(expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    a, b = fns
    return lambda data, run: strict_equals(a(data, run), b(data, run))


def emit_not_strict(expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    a, b = fns
    return lambda data, run: not strict_equals(a(data, run), b(data, run))


Test = Callable[[Any, Any, Any], bool]


def _ordering(strict_less: bool, flip: bool) -> Callable[[Expr, list[Fn], Emitter], Fn]:
    """``<``/``<=`` (and ``>``/``>=`` as the same test with arguments swapped)."""
    test: Test = less if strict_less else less_or_equal

    def emit(expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
        if len(fns) == 3:
            a, b, c = fns

            def between(data: Any, run: Any) -> bool:
                middle = b(data, run)
                return (test(a(data, run), middle, run.zone)
                        and test(middle, c(data, run), run.zone))

            return between
        left, right = expr.args
        a, b = fns
        if flip:
            left, right, a, b = right, left, b, a
        fused = _fused_order(left, right, a, b, strict_less, test)
        if fused is not None:
            return fused

        def compare(data: Any, run: Any) -> bool:
            return test(a(data, run), b(data, run), run.zone)

        return compare

    return emit


def _fused_order(left: Expr, right: Expr, a: Fn, b: Fn, strict_less: bool,
                 test: Test) -> Fn | None:
    key_left, key_right = _fast_field(left), _fast_field(right)
    if key_left is not None and _fast_literal(right) and right.value.__class__ in FAST:
        value, key, field = right.value, key_left, a
        field_first = True
    elif key_right is not None and _fast_literal(left) and left.value.__class__ in FAST:
        value, key, field = left.value, key_right, b
        field_first = False
    else:
        return None
    numeric = value.__class__ is not str
    kind = value.__class__

    if field_first:
        def field_vs_value(data: Any, run: Any) -> bool:
            found = data.get(key) if data.__class__ is dict else field(data, run)
            seen = found.__class__
            if seen is kind or (numeric and (seen is int or seen is Decimal)):
                return found < value if strict_less else found <= value
            return test(found, value, run.zone)

        return field_vs_value

    def value_vs_field(data: Any, run: Any) -> bool:
        found = data.get(key) if data.__class__ is dict else field(data, run)
        seen = found.__class__
        if seen is kind or (numeric and (seen is int or seen is Decimal)):
            return value < found if strict_less else value <= found
        return test(value, found, run.zone)

    return value_vs_field


# --- in --------------------------------------------------------------------------------------

def emit_in(expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    needle_of, haystack_of = fns
    needle_expr, haystack_expr = expr.args
    key = _fast_field(needle_expr)
    if (key is not None and haystack_expr.is_literal and isinstance(haystack_expr.value, list)
            and haystack_expr.value and all(isinstance(v, str) for v in haystack_expr.value)):
        choices = frozenset(haystack_expr.value)

        def in_choices(data: Any, run: Any) -> bool:
            found = data.get(key) if data.__class__ is dict else needle_of(data, run)
            if found.__class__ is str:
                return found in choices
            return contains(found, haystack_expr.value)

        return in_choices

    def within(data: Any, run: Any) -> bool:
        return contains(needle_of(data, run), haystack_of(data, run))

    return within


def contains(needle: Any, haystack: Any) -> bool:
    """JSON Logic ``in``: an item of a list (strictly equal), or a piece of a text."""
    if isinstance(haystack, str):
        if needle is None:
            return False
        return js_text(needle) in haystack
    if isinstance(haystack, list | tuple):
        return any(strict_equals(needle, item) for item in haystack)
    return False


def prepare_in(expr: Expr, builder: Builder) -> None:
    needle, haystack = expr.args
    numeric_literal(needle)
    if haystack.is_literal and isinstance(haystack.value, list):
        converted = []
        for item in haystack.value:
            converted.append(to_number(item) if isinstance(item, float) else item)
        haystack.value = converted
        if needle.type.temporal:
            haystack.value = [parse_date(v) or v if isinstance(v, str) else v
                              for v in haystack.value]
        path = _path(needle)
        scope = builder.frame_scope
        info = scope.lookup(path) if scope is not None and path else None
        if info is not None and info.options:
            for item in haystack.value:
                if isinstance(item, str) and item not in info.options:
                    _check_option(Expr("==", [needle, literal_expr(item)],
                                       position=expr.position), builder)
                    break


# --- SQL -------------------------------------------------------------------------------------

def _family_pair(sql: SqlBuilder, a: SqlValue, b: SqlValue, op: str) -> tuple[SqlValue, SqlValue]:
    """Bring two values to one kind SQL can compare, as Python would; or refuse."""
    for one, other in ((a, b), (b, a)):
        if other.const:
            sql.require_fits(one, other.value)
    for one, other in ((a, b), (b, a)):
        if one.type.numeric and other.const and isinstance(other.value, str):
            number = text_number(other.value)
            if number is None:
                raise NotTranslatable(f"'{op}' compares a number with text")
            replaced = sql.bind(number)
            return (one, replaced) if one is a else (replaced, one)
    if a.type.family == b.type.family or ValueType.NULL in (a.type, b.type):
        return a, b
    if sql.dry and ValueType.ANY in (a.type, b.type):
        return a, b
    if a.type.temporal and b.type.temporal:
        return a, b
    raise NotTranslatable(f"'{op}' compares {a.type.value} with {b.type.value}; SQL would not "
                          "coerce them as the rule does")


def equal_predicate(sql: SqlBuilder, a: SqlValue, b: SqlValue, op: str) -> ColumnElement[bool]:
    """Two-valued equality: a blank equals only a blank."""
    a, b = _family_pair(sql, a, b, op)
    if a.const and b.const:
        return true() if loose_equals(a.value, b.value, sql.zone) else false()
    if a.type in (ValueType.LIST, ValueType.OBJECT) or b.type in (ValueType.LIST,
                                                                  ValueType.OBJECT):
        raise NotTranslatable(f"'{op}' on lists has no SQL form")
    if a.type is ValueType.DATETIME and b.type is ValueType.DATE:
        return _datetime_vs_date(sql, a, b, "==")
    if b.type is ValueType.DATETIME and a.type is ValueType.DATE:
        return _datetime_vs_date(sql, b, a, "==")
    for one, other in ((a, b), (b, a)):
        if other.const:
            if other.value is None:
                return one.sql.is_(None)
            return and_(one.sql.is_not(None), one.sql == other.sql)
    return a.sql.is_not_distinct_from(b.sql)


def order_predicate(sql: SqlBuilder, a: SqlValue, b: SqlValue, op: str) -> ColumnElement[bool]:
    """Two-valued ``a op b`` for op in <, <=; false when either side is blank."""
    if (a.const and a.value is None) or (b.const and b.value is None):
        return false()
    a, b = _family_pair(sql, a, b, op)
    if a.const and b.const:
        test = less if op == "<" else less_or_equal
        return true() if test(a.value, b.value, sql.zone) else false()
    if ValueType.BOOLEAN in (a.type, b.type) or a.type in (ValueType.LIST, ValueType.OBJECT):
        raise NotTranslatable(f"'{op}' on this kind of value has no SQL form")
    if a.type is ValueType.DATETIME and b.type is ValueType.DATE:
        return _datetime_vs_date(sql, a, b, op)
    if b.type is ValueType.DATETIME and a.type is ValueType.DATE:
        return _datetime_vs_date(sql, b, a, {"<": ">", "<=": ">="}[op])
    left, right = a.sql, b.sql
    if a.type is ValueType.TEXT:
        left, right = Binary(left), Binary(right)
    compared = left < right if op == "<" else left <= right
    guards = [value.sql.is_not(None) for value in (a, b) if value.nullable]
    return and_(*guards, compared)


def _datetime_vs_date(sql: SqlBuilder, moment: SqlValue, day: SqlValue,
                      op: str) -> ColumnElement[bool]:
    """Compare an instant with a date through its local date; with a fixed date, as a
    range of instants (index-friendly and exact in every time zone)."""
    if day.const:
        start = day_start(day.value, sql.zone)
        end = day_start(day.value + timedelta(days=1), sql.zone)
        start_sql, end_sql = sql.bind(start).sql, sql.bind(end).sql
        column = moment.sql
        ranges = {
            "==": and_(column >= start_sql, column < end_sql),
            "<": column < start_sql,
            "<=": column < end_sql,
            ">": column >= end_sql,
            ">=": column >= start_sql,
        }
        return and_(column.is_not(None), ranges[op])
    local = SqlValue(LocalDate(moment.sql, sql.zone), ValueType.DATE)
    if op == "==":
        return equal_predicate(sql, local, day, op)
    if op in (">", ">="):
        return order_predicate(sql, day, local, {">": "<", ">=": "<="}[op])
    return order_predicate(sql, local, day, op)


def sql_equal(sql: SqlBuilder, expr: Expr) -> ColumnElement[bool]:
    a, b = (sql.value(arg) for arg in expr.args)
    return equal_predicate(sql, a, b, expr.op)


def sql_not_equal(sql: SqlBuilder, expr: Expr) -> ColumnElement[bool]:
    return not_(sql_equal(sql, expr))


def sql_strict(sql: SqlBuilder, expr: Expr) -> ColumnElement[bool]:
    a, b = (sql.value(arg) for arg in expr.args)
    kinds = {a.type.family, b.type.family} - {ValueType.NULL.value}
    if len(kinds) > 1 and not (sql.dry and ValueType.ANY.value in kinds):
        if ValueType.NULL in (a.type, b.type):
            return equal_predicate(sql, a, b, expr.op)
        return false()
    return equal_predicate(sql, a, b, expr.op)


def sql_not_strict(sql: SqlBuilder, expr: Expr) -> ColumnElement[bool]:
    return not_(sql_strict(sql, expr))


_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _days_since_bound(sql: SqlBuilder, expr: Expr, op: str) -> ColumnElement[bool] | None:
    """``days_since(d) > 90`` as ``d < today - 90``: the same rows, but a bound on the
    column the planner can estimate and an index can serve (for a date field and a whole
    number of days); None when the comparison has another shape."""
    if len(expr.args) != 2:
        return None
    left, right = expr.args
    if right.op == "days_since" and left.is_literal:
        left, right, op = right, left, _MIRROR[op]
    if left.op != "days_since" or not right.is_literal or len(left.args) != 1:
        return None
    field, days = left.args[0], right.value
    if field.op != "var" or field.type is not ValueType.DATE or isinstance(days, bool) or \
            not isinstance(days, int | Decimal) or days != int(days):
        return None
    bound = sql.bind(sql.env.today - timedelta(days=int(days))).sql
    column = sql.value(field).sql
    test = {">": column < bound, ">=": column <= bound, "<": column > bound,
            "<=": column >= bound}[op]
    return and_(column.is_not(None), test)


def _sql_order(op: str, flip: bool) -> Callable[[SqlBuilder, Expr], ColumnElement[bool]]:
    def translate(sql: SqlBuilder, expr: Expr) -> ColumnElement[bool]:
        bounded = _days_since_bound(sql, expr, _MIRROR[op] if flip else op)
        if bounded is not None:
            return bounded
        values = [sql.value(arg) for arg in expr.args]
        if len(values) == 3:
            return and_(order_predicate(sql, values[0], values[1], op),
                        order_predicate(sql, values[1], values[2], op))
        a, b = values
        return order_predicate(sql, b, a, op) if flip else order_predicate(sql, a, b, op)

    return translate


def sql_in(sql: SqlBuilder, expr: Expr) -> ColumnElement[bool]:
    needle, haystack = (sql.value(arg) for arg in expr.args)
    if haystack.const and isinstance(haystack.value, list):
        return _in_list(sql, needle, haystack.value)
    if haystack.type is ValueType.TEXT or (haystack.const and isinstance(haystack.value, str)):
        if needle.const and needle.value is None:
            return false()
        if needle.type is not ValueType.TEXT and not (sql.dry and needle.type is ValueType.ANY):
            raise NotTranslatable("'in' on text needs text to look for")
        guards = [value.sql.is_not(None) for value in (needle, haystack) if value.nullable]
        return and_(*guards, TextContains(haystack.sql, needle.sql))
    raise NotTranslatable("'in' over a list field has no SQL form")


def _in_list(sql: SqlBuilder, needle: SqlValue, items: list[Any]) -> ColumnElement[bool]:
    if needle.const:
        return true() if contains(needle.value, items) else false()
    family = needle.type.family
    matches: list[Any] = []
    has_null = False
    for item in items:
        sql.require_fits(needle, item)
        if item is None:
            has_null = True
        elif _same_family(family, item):
            matches.append(item)
        elif not (sql.dry and needle.type is ValueType.ANY):
            continue  # strictly equal to nothing of the field's kind
        else:
            matches.append(item)
    clauses = []
    if matches:
        clauses.append(and_(needle.sql.is_not(None), needle.sql.in_(matches)))
    if has_null:
        clauses.append(needle.sql.is_(None))
    return or_(false(), *clauses)


def _same_family(family: str, item: Any) -> bool:
    if family == "number":
        return isinstance(item, int | Decimal) and not isinstance(item, bool)
    if family == "text":
        return isinstance(item, str)
    if family == "boolean":
        return isinstance(item, bool)
    if family == "date":
        return isinstance(item, date) and not isinstance(item, datetime)
    if family == "datetime":
        return isinstance(item, datetime)
    return False


def _register() -> None:
    compare = {"prepare": prepare_compare, "result": ValueType.BOOLEAN}
    register(Operator("==", emit_equal, arity=(2, 2), sql_predicate=sql_equal, **compare))
    register(Operator("!=", emit_not_equal, arity=(2, 2), sql_predicate=sql_not_equal,
                      **compare))
    register(Operator("===", emit_strict, arity=(2, 2), sql_predicate=sql_strict, **compare))
    register(Operator("!==", emit_not_strict, arity=(2, 2), sql_predicate=sql_not_strict,
                      **compare))
    register(Operator("<", _ordering(True, False), arity=(2, 3),
                      sql_predicate=_sql_order("<", False), **compare))
    register(Operator("<=", _ordering(False, False), arity=(2, 3),
                      sql_predicate=_sql_order("<=", False), **compare))
    register(Operator(">", _ordering(True, True), arity=(2, 2),
                      sql_predicate=_sql_order("<", True), **compare))
    register(Operator(">=", _ordering(False, True), arity=(2, 2),
                      sql_predicate=_sql_order("<=", True), **compare))
    register(Operator("in", emit_in, arity=(2, 2), result=ValueType.BOOLEAN,
                      prepare=prepare_in, sql_predicate=sql_in))


_register()
