"""Reading the record: ``var``, ``missing``, ``missing_some``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, false, or_
from sqlalchemy.sql import ColumnElement

from loom.engines.expressions.python import Emitter, walk
from loom.engines.expressions.scope import ValueType
from loom.engines.expressions.sql import SqlBuilder, SqlValue
from loom.engines.expressions.tree import Builder, Expr, Fn, Operator, register
from loom.engines.expressions.values import js_text

_MISSING = object()


@dataclass(frozen=True)
class VarSpec:
    """A ``var``: a fixed path (None for the whole data) or one computed at run time."""

    path: str | None
    parts: tuple[str, ...]
    dynamic: bool = False
    has_default: bool = False


def split_path(path: Any) -> tuple[str, ...]:
    if path is None or path == "":
        return ()
    if isinstance(path, list | tuple):
        return tuple(js_text(part) for part in path)
    return tuple(js_text(path).split("."))


def _is_logic(node: Any) -> bool:
    return isinstance(node, Mapping | list | tuple)


def build_var(builder: Builder, args: list[Any], context: Any) -> Expr:
    head = args[0] if args else None
    children: list[Expr] = []
    if _is_logic(head):
        children.append(builder.read_child(head, context))
        spec = VarSpec(None, (), dynamic=True, has_default=len(args) > 1)
        kind, scale = ValueType.ANY, None
        builder.note_read("*")
    else:
        parts = split_path(head)
        path = ".".join(parts) if parts else None
        scope = builder.frame_scope
        if path and scope is not None and scope.through_lookup(path):
            # a value through a lookup is not in the record: the caller supplies it under
            # the whole path (``{"customer.region": …}``); SQL reaches it by a subquery
            parts = (path,)
        spec = VarSpec(path, parts, has_default=len(args) > 1)
        kind, scale = (builder.field_type(path, context.position) if path
                       else (ValueType.ANY, None))
    if len(args) > 1:
        children.append(builder.read_child(args[1], context))
    if len(args) > 2:
        builder.problem("expr_arity", position=context.position, fatal=True, name="var",
                        expected="0–2", given=len(args))
    return Expr("var", children, value=spec, type=kind, scale=scale, reads_data=True)


def find(data: Any, parts: tuple[str, ...]) -> Any:
    """Like ``walk`` but tells a missing key (``_MISSING``) from a present blank."""
    for part in parts:
        if data is None:
            return _MISSING
        if isinstance(data, Mapping):
            data = data.get(part, _MISSING)
        elif isinstance(data, list | tuple):
            found = walk(data, (part,))
            data = _MISSING if found is None else found
        else:
            return _MISSING
        if data is _MISSING:
            return _MISSING
    return data


def emit_var(expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    spec: VarSpec = expr.value
    default = fns[-1] if spec.has_default else None
    if spec.dynamic:
        path_of = fns[0]

        def computed(data: Any, run: Any) -> Any:
            found = find(data, split_path(path_of(data, run)))
            if found is _MISSING:
                return default(data, run) if default else None
            return found

        return computed
    parts = spec.parts
    if not parts:
        def whole(data: Any, run: Any) -> Any:
            return default(data, run) if data is None and default else data

        return whole
    if default is not None:
        def with_default(data: Any, run: Any) -> Any:
            found = find(data, parts)
            return default(data, run) if found is _MISSING else found

        return with_default
    if len(parts) == 1:
        key = parts[0]

        def field(data: Any, _run: Any) -> Any:
            if data.__class__ is dict:
                return data.get(key)
            return walk(data, parts)

        return field

    def nested(data: Any, _run: Any) -> Any:
        return walk(data, parts)

    return nested


def _keys(values: list[Any]) -> list[Any]:
    return values[0] if values and isinstance(values[0], list) else values


def _is_missing(data: Any, key: Any) -> bool:
    value = walk(data, split_path(key)) if split_path(key) else data
    return value is None or value == ""


def emit_missing(_expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    def missing(data: Any, run: Any) -> list[Any]:
        keys = _keys([fn(data, run) for fn in fns])
        return [key for key in keys if _is_missing(data, key)]

    return missing


def emit_missing_some(_expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    need_of, keys_of = fns

    def missing_some(data: Any, run: Any) -> list[Any]:
        need, keys = need_of(data, run), keys_of(data, run)
        if not isinstance(keys, list):
            keys = [keys]
        absent = [key for key in keys if _is_missing(data, key)]
        need_number = need if isinstance(need, int) else 0
        return [] if len(keys) - len(absent) >= need_number else absent

    return missing_some


def _literal_keys(builder: Builder, args: list[Expr]) -> None:
    keys = args[0].value if len(args) == 1 and args[0].is_literal and isinstance(
        args[0].value, list) else [arg.value for arg in args if arg.is_literal]
    for key in keys:
        if isinstance(key, str | int) and not isinstance(key, bool):
            builder.field_type(js_text(key), None)


def prepare_missing(expr: Expr, builder: Builder) -> None:
    _literal_keys(builder, expr.args)


def prepare_missing_some(expr: Expr, builder: Builder) -> None:
    _literal_keys(builder, expr.args[1:])


def blank(sql: SqlBuilder, key: Any) -> ColumnElement[bool]:
    """The SQL for "this field is blank": NULL, or empty text."""
    value = sql.column(_field_expr(key))
    if value.type is ValueType.TEXT:
        return or_(value.sql.is_(None), value.sql == "")
    return value.sql.is_(None)


def _field_expr(key: Any) -> Expr:
    parts = split_path(key)
    return Expr("var", value=VarSpec(".".join(parts) or None, parts), reads_data=True)


def _static_keys(sql: SqlBuilder, args: list[Expr]) -> list[Any]:
    values = [sql.value(arg) for arg in args]
    if not all(value.const for value in values):
        from loom.engines.expressions.errors import NotTranslatable

        raise NotTranslatable("field names computed from the record have no SQL form")
    return _keys([value.value for value in values])


def sql_missing(sql: SqlBuilder, expr: Expr) -> ColumnElement[bool]:
    keys = _static_keys(sql, expr.args)
    return or_(false(), *(blank(sql, key) for key in keys))


def sql_missing_some(sql: SqlBuilder, expr: Expr) -> ColumnElement[bool]:
    need = sql.value(expr.args[0])
    keys = _static_keys(sql, expr.args[1:])
    if not need.const or not isinstance(need.value, int):
        from loom.engines.expressions.errors import NotTranslatable

        raise NotTranslatable("missing_some needs a fixed count")
    threshold = min(need.value, len(keys))
    if threshold <= 0 or not keys:
        return false()
    present = sum((case((blank(sql, key), 0), else_=1) for key in keys[1:]),
                  case((blank(sql, keys[0]), 0), else_=1))
    return present < threshold


def sql_var_value(sql: SqlBuilder, expr: Expr) -> SqlValue:
    return sql.column(expr)


register(Operator("var", emit_var, arity=(0, 3), build=build_var, reads_data=True,
                  sql_value=sql_var_value))
register(Operator("missing", emit_missing, result=ValueType.LIST, prepare=prepare_missing,
                  reads_data=True, sql_predicate=sql_missing))
register(Operator("missing_some", emit_missing_some, arity=(2, 2), result=ValueType.LIST,
                  prepare=prepare_missing_some, reads_data=True,
                  sql_predicate=sql_missing_some))
