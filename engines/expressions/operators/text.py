"""Text: ``cat`` (``&`` in formulas), ``substr``, ``starts_with``, ``len``, ``text``,
``value``, ``upper``, ``lower``, ``trim``. A blank joins as empty text, never as "null"."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func
from sqlalchemy.sql import ColumnElement

from loom.engines.expressions.errors import NotTranslatable
from loom.engines.expressions.python import MAX_TEXT, Emitter
from loom.engines.expressions.scope import ValueType
from loom.engines.expressions.sql import SqlBuilder, SqlValue
from loom.engines.expressions.tree import Expr, Fn, Operator, register
from loom.engines.expressions.values import js_text, text_number, to_number


def _text_of(value: Any, run: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(run.zone).isoformat()
    return js_text(value)


def emit_cat(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
    def cat(data: Any, run: Any) -> str:
        text = "".join([_text_of(fn(data, run), run) for fn in fns])
        if len(text) > MAX_TEXT:
            raise em.error(expr, "expr_value_too_large", what="text")
        return text

    return cat


def sql_cat(sql: SqlBuilder, expr: Expr) -> SqlValue:
    parts = [sql.value(arg) for arg in expr.args]
    for part in parts:
        if part.type is not ValueType.TEXT and not (part.const and part.value is None):
            raise NotTranslatable("'cat' of non-text values has no SQL form (numbers and "
                                  "dates are written differently by each database)")
    if not parts:
        return sql.bind("")
    result = func.coalesce(parts[0].sql, "")
    for part in parts[1:]:
        result = result.op("||")(func.coalesce(part.sql, ""))
    return SqlValue(result, ValueType.TEXT)


def substring(source: Any, start: Any, length: Any = None) -> str:
    """JSON Logic ``substr``: a negative start counts from the end; a negative length
    leaves that many characters off the end."""
    text = js_text(source)
    begin = to_number(start) if start is not None else 0
    begin = int(begin) if begin is not None else 0
    if begin < 0:
        begin = max(len(text) + begin, 0)
    rest = text[begin:]
    if length is None:
        return rest
    count = to_number(length)
    count = int(count) if count is not None else 0
    if count < 0:
        return rest[:max(len(rest) + count, 0)]
    return rest[:count]


def emit_substr(_expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    source, start = fns[0], fns[1]
    length = fns[2] if len(fns) > 2 else None

    def substr(data: Any, run: Any) -> str:
        return substring(source(data, run), start(data, run),
                         length(data, run) if length else None)

    return substr


def starts_with(text: Any, prefix: Any) -> bool:
    if text is None or prefix is None:
        return False
    return js_text(text).startswith(js_text(prefix))


def emit_starts_with(_expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    text_of, prefix_of = fns
    return lambda data, run: starts_with(text_of(data, run), prefix_of(data, run))


def sql_starts_with(sql: SqlBuilder, expr: Expr) -> ColumnElement[bool]:
    text, prefix = (sql.value(arg) for arg in expr.args)
    for part in (text, prefix):
        if part.type is not ValueType.TEXT and not (sql.dry and part.type is ValueType.ANY):
            raise NotTranslatable("'starts_with' needs text")
    guards = [part.sql.is_not(None) for part in (text, prefix) if part.nullable]
    return and_(*guards, func.substr(text.sql, 1, func.length(prefix.sql)) == prefix.sql)


def emit_len(_expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    (fn,) = fns

    def length(data: Any, run: Any) -> int:
        value = fn(data, run)
        if isinstance(value, list | tuple):
            return len(value)
        return len(js_text(value))

    return length


def sql_len(sql: SqlBuilder, expr: Expr) -> SqlValue:
    value = sql.value(expr.args[0])
    if value.type is not ValueType.TEXT:
        raise NotTranslatable("'len' of non-text has no SQL form")
    return SqlValue(func.coalesce(func.length(value.sql), 0), ValueType.INTEGER, 0)


def emit_text(_expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    (fn,) = fns

    def text(data: Any, run: Any) -> str | None:
        value = fn(data, run)
        if value is None:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value.isoformat()
        return _text_of(value, run)

    return text


def emit_value(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
    (fn,) = fns

    def number(data: Any, run: Any) -> int | Decimal | None:
        value = fn(data, run)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            result = text_number(value.replace(",", "")) if value.strip() else None
        else:
            result = to_number(value)
        if result is None:
            em.fault(expr, "expr_not_a_number", value=js_text(value)[:40])
        return result

    return number


def _text_function(transform: Any) -> Any:
    def emit(_expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
        (fn,) = fns

        def apply(data: Any, run: Any) -> str | None:
            value = fn(data, run)
            return None if value is None else transform(js_text(value))

        return apply

    return emit


register(Operator("cat", emit_cat, result=ValueType.TEXT, sql_value=sql_cat))
register(Operator("substr", emit_substr, arity=(2, 3), result=ValueType.TEXT))
register(Operator("starts_with", emit_starts_with, arity=(2, 2), result=ValueType.BOOLEAN,
                  sql_predicate=sql_starts_with, formula="BEGINS"))
register(Operator("len", emit_len, arity=(1, 1), result=ValueType.INTEGER, sql_value=sql_len,
                  formula="LEN"))
register(Operator("text", emit_text, arity=(1, 1), result=ValueType.TEXT, formula="TEXT"))
register(Operator("value", emit_value, arity=(1, 1), result=ValueType.NUMBER,
                  formula="VALUE"))
register(Operator("upper", _text_function(str.upper), arity=(1, 1), result=ValueType.TEXT,
                  formula="UPPER"))
register(Operator("lower", _text_function(str.lower), arity=(1, 1), result=ValueType.TEXT,
                  formula="LOWER"))
register(Operator("trim", _text_function(str.strip), arity=(1, 1), result=ValueType.TEXT,
                  formula="TRIM"))
