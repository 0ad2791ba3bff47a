"""Logic: ``if``/``?:``, ``and``, ``or``, ``!``, ``!!``, ``log``, and the blank helpers
``is_blank``, ``blank_value`` and ``case``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, not_, or_
from sqlalchemy.sql import ColumnElement

from loom.engines.expressions.errors import NotTranslatable
from loom.engines.expressions.operators.compare import equal_predicate
from loom.engines.expressions.python import Emitter, condition, exact_bool
from loom.engines.expressions.scope import ValueType
from loom.engines.expressions.sql import SqlBuilder, SqlValue
from loom.engines.expressions.tree import Expr, Fn, Operator, register
from loom.engines.expressions.values import loose_equals, truthy


def _common_type(args: list[Expr]) -> ValueType:
    kinds = {arg.type for arg in args if arg.type is not ValueType.NULL}
    if len(kinds) == 1:
        return kinds.pop()
    if kinds and all(kind.numeric for kind in kinds):
        return ValueType.NUMBER
    return ValueType.ANY


# --- if --------------------------------------------------------------------------------------

def _if_branches(expr: Expr) -> list[Expr]:
    args = expr.args
    return [args[i] for i in range(1, len(args), 2)] + ([args[-1]] if len(args) % 2 else [])


def result_if(expr: Expr) -> ValueType:
    if len(expr.args) <= 1:
        return expr.args[0].type if expr.args else ValueType.NULL
    branches = _if_branches(expr)
    if len(expr.args) % 2 == 0:
        branches.append(Expr("literal", type=ValueType.NULL))
    return _common_type(branches)


def emit_if(expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    args = expr.args
    if not fns:
        return lambda _data, _run: None
    if len(fns) == 1:
        return fns[0]
    tests = [condition(args[i], fns[i]) for i in range(0, len(fns) - 1, 2)]
    values = [fns[i] for i in range(1, len(fns), 2)]
    otherwise = fns[-1] if len(fns) % 2 else None
    if len(tests) == 1:
        test, then = tests[0], values[0]
        if otherwise is None:
            return lambda data, run: then(data, run) if test(data, run) else None
        other = otherwise
        return lambda data, run: then(data, run) if test(data, run) else other(data, run)
    pairs = list(zip(tests, values, strict=True))

    def chain(data: Any, run: Any) -> Any:
        for test, then in pairs:
            if test(data, run):
                return then(data, run)
        return otherwise(data, run) if otherwise is not None else None

    return chain


def _if_pairs(sql: SqlBuilder, expr: Expr) -> tuple[list[tuple[Any, Expr]], Expr | None]:
    args = expr.args
    pairs = [(sql.predicate(args[i]), args[i + 1]) for i in range(0, len(args) - 1, 2)]
    return pairs, (args[-1] if len(args) % 2 else None)


def sql_if_predicate(sql: SqlBuilder, expr: Expr) -> ColumnElement[bool]:
    if len(expr.args) == 1:
        return sql.predicate(expr.args[0])
    pairs, otherwise = _if_pairs(sql, expr)
    clauses, earlier = [], []
    for test, then in pairs:
        clauses.append(and_(*earlier, test, sql.predicate(then)))
        earlier.append(not_(test))
    if otherwise is not None:
        clauses.append(and_(*earlier, sql.predicate(otherwise)))
    return or_(*clauses)


def sql_if_value(sql: SqlBuilder, expr: Expr) -> SqlValue:
    if len(expr.args) == 1:
        return sql.value(expr.args[0])
    pairs, otherwise = _if_pairs(sql, expr)
    branches = [(test, sql.value(then)) for test, then in pairs]
    other = sql.value(otherwise) if otherwise is not None else None
    values = [value for _, value in branches] + ([other] if other else [])
    kinds = {value.type.family for value in values if value.type is not ValueType.NULL}
    if len(kinds) > 1:
        raise NotTranslatable("the branches of 'if' give values of different kinds")
    kind = next((v.type for v in values if v.type is not ValueType.NULL), ValueType.NULL)
    scales = [v.scale for v in values if v.scale is not None]
    result = case(*((test, value.sql) for test, value in branches),
                  else_=other.sql if other is not None else None)
    return SqlValue(result, kind, max(scales) if scales else None)


# --- and / or / not --------------------------------------------------------------------------

def emit_and(expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    if not fns:
        return lambda _data, _run: None
    if exact_bool(expr):
        if len(fns) == 1:
            return fns[0]
        if len(fns) == 2:
            a, b = fns
            return lambda data, run: a(data, run) and b(data, run)
        if len(fns) == 3:
            a, b, c = fns
            return lambda data, run: a(data, run) and b(data, run) and c(data, run)
        if len(fns) == 4:
            a, b, c, d = fns
            return lambda data, run: (a(data, run) and b(data, run) and c(data, run)
                                      and d(data, run))

    def conjunction(data: Any, run: Any) -> Any:
        value = None
        for fn in fns:
            value = fn(data, run)
            if not truthy(value):
                return value
        return value

    return conjunction


def emit_or(expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    if not fns:
        return lambda _data, _run: None
    if exact_bool(expr):
        if len(fns) == 1:
            return fns[0]
        if len(fns) == 2:
            a, b = fns
            return lambda data, run: a(data, run) or b(data, run)
        if len(fns) == 3:
            a, b, c = fns
            return lambda data, run: a(data, run) or b(data, run) or c(data, run)

    def disjunction(data: Any, run: Any) -> Any:
        value = None
        for fn in fns:
            value = fn(data, run)
            if truthy(value):
                return value
        return value

    return disjunction


def result_logic(expr: Expr) -> ValueType:
    return _common_type(expr.args) if expr.args else ValueType.NULL


def sql_and(sql: SqlBuilder, expr: Expr) -> ColumnElement[bool]:
    return and_(*(sql.predicate(arg) for arg in expr.args))


def sql_or(sql: SqlBuilder, expr: Expr) -> ColumnElement[bool]:
    return or_(*(sql.predicate(arg) for arg in expr.args))


def sql_logic_value(sql: SqlBuilder, expr: Expr) -> SqlValue:
    if not exact_bool(expr):
        raise NotTranslatable(f"the value of '{expr.op}' (not just its truth) has no SQL form")
    return SqlValue(sql.predicate(expr), ValueType.BOOLEAN)


def emit_not(expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    (fn,) = fns
    if exact_bool(expr.args[0]):
        return lambda data, run: not fn(data, run)
    return lambda data, run: not truthy(fn(data, run))


def emit_not_not(expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    (fn,) = fns
    if exact_bool(expr.args[0]):
        return lambda data, run: bool(fn(data, run))
    return lambda data, run: truthy(fn(data, run))


def sql_not(sql: SqlBuilder, expr: Expr) -> ColumnElement[bool]:
    return not_(sql.predicate(expr.args[0]))


def sql_not_not(sql: SqlBuilder, expr: Expr) -> ColumnElement[bool]:
    return sql.predicate(expr.args[0])


def emit_log(_expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    return fns[0]


# --- blanks ----------------------------------------------------------------------------------

def is_blank(value: Any) -> bool:
    """Blank: nothing, empty text, an empty list or an empty object."""
    return value is None or value == "" or (isinstance(value, list | tuple | dict)
                                            and len(value) == 0)


def emit_is_blank(_expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    (fn,) = fns
    return lambda data, run: is_blank(fn(data, run))


def sql_is_blank(sql: SqlBuilder, expr: Expr) -> ColumnElement[bool]:
    value = sql.value(expr.args[0])
    if value.type is ValueType.TEXT:
        return or_(value.sql.is_(None), value.sql == "")
    if value.type in (ValueType.LIST, ValueType.OBJECT):
        raise NotTranslatable("blank lists have no SQL form")
    return value.sql.is_(None)


def emit_blank_value(_expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    value_of, default_of = fns

    def blank_value(data: Any, run: Any) -> Any:
        value = value_of(data, run)
        return default_of(data, run) if is_blank(value) else value

    return blank_value


def sql_blank_value(sql: SqlBuilder, expr: Expr) -> SqlValue:
    from sqlalchemy import func

    value, default = sql.value(expr.args[0]), sql.value(expr.args[1])
    if value.type.family != default.type.family and default.type is not ValueType.NULL:
        raise NotTranslatable("blank_value mixes kinds of values")
    if value.type is ValueType.TEXT:
        return SqlValue(func.coalesce(func.nullif(value.sql, ""), default.sql), value.type)
    scales = [s for s in (value.scale, default.scale) if s is not None]
    return SqlValue(func.coalesce(value.sql, default.sql), value.type,
                    max(scales) if scales else None)


def result_blank_value(expr: Expr) -> ValueType:
    return _common_type(expr.args)


# --- case ------------------------------------------------------------------------------------

def emit_case(_expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    subject = fns[0]
    pairs = [(fns[i], fns[i + 1]) for i in range(1, len(fns) - 1, 2)]
    otherwise = fns[-1] if len(fns) % 2 == 0 else None

    def pick(data: Any, run: Any) -> Any:
        value = subject(data, run)
        for candidate, result in pairs:
            if loose_equals(value, candidate(data, run), run.zone):
                return result(data, run)
        return otherwise(data, run) if otherwise is not None else None

    return pick


def sql_case(sql: SqlBuilder, expr: Expr) -> SqlValue:
    subject = sql.value(expr.args[0])
    args = expr.args
    branches = []
    values = []
    for i in range(1, len(args) - 1, 2):
        values.append(sql.value(args[i + 1]))
        branches.append((equal_predicate(sql, subject, sql.value(args[i]), "=="), values[-1]))
    other = sql.value(args[-1]) if len(args) % 2 == 0 else None
    if other is not None:
        values.append(other)
    kinds = {value.type.family for value in values if value.type is not ValueType.NULL}
    if len(kinds) > 1:
        raise NotTranslatable("the results of 'case' are of different kinds")
    kind = next((v.type for v in values if v.type is not ValueType.NULL), ValueType.NULL)
    result = case(*((test, value.sql) for test, value in branches),
                  else_=other.sql if other is not None else None)
    return SqlValue(result, kind)


def result_case(expr: Expr) -> ValueType:
    args = expr.args
    results = [args[i + 1] for i in range(1, len(args) - 1, 2)]
    if len(args) % 2 == 0:
        results.append(args[-1])
    return _common_type(results)


register(Operator("if", emit_if, result=result_if, sql_value=sql_if_value,
                  sql_predicate=sql_if_predicate, formula="IF"), "?:")
register(Operator("and", emit_and, result=result_logic, sql_value=sql_logic_value,
                  sql_predicate=sql_and, formula="AND"))
register(Operator("or", emit_or, result=result_logic, sql_value=sql_logic_value,
                  sql_predicate=sql_or, formula="OR"))
register(Operator("!", emit_not, arity=(1, 1), result=ValueType.BOOLEAN,
                  sql_predicate=sql_not, formula="NOT"))
register(Operator("!!", emit_not_not, arity=(1, 1), result=ValueType.BOOLEAN,
                  sql_predicate=sql_not_not))
register(Operator("log", emit_log, arity=(1, 1), result=lambda e: e.args[0].type))
register(Operator("is_blank", emit_is_blank, arity=(1, 1), result=ValueType.BOOLEAN,
                  sql_predicate=sql_is_blank, formula="ISBLANK"))
register(Operator("blank_value", emit_blank_value, arity=(2, 2), result=result_blank_value,
                  sql_value=sql_blank_value, formula="BLANKVALUE"))
register(Operator("case", emit_case, arity=(2, None), result=result_case, sql_value=sql_case,
                  formula="CASE"))
