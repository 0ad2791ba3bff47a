"""Lists: ``map``, ``filter``, ``reduce``, ``all``, ``some``, ``none``, ``merge``.

Inside ``map``/``filter``/``all``/``some``/``none`` the data is the item (``{"var": ""}``),
inside ``reduce`` it is ``{"current", "accumulator"}``. Every item costs a step of the
evaluation's budget, so nested loops over large lists stop with an error, never hang.
"""

from __future__ import annotations

from typing import Any

from loom.engines.expressions.operators.data import VarSpec
from loom.engines.expressions.python import MAX_ITEMS, Emitter, condition
from loom.engines.expressions.scope import Scope, ValueType
from loom.engines.expressions.tree import Builder, Expr, Fn, Operator, register


def _item_frame(builder: Builder, source: Expr) -> tuple[Scope | None, str | None]:
    """What the loop body sees: a sub-table's items have the child entity's fields."""
    if source.op != "var" or source.value.dynamic or source.args:
        return None, None
    spec: VarSpec = source.value
    scope = builder.frame_scope
    prefix = builder.frames[-1][1]
    if prefix is None or spec.path is None:
        return None, None
    full = f"{prefix}.{spec.path}" if prefix else spec.path
    if scope is None:
        return None, full
    info = scope.lookup(spec.path)
    child = scope.entity_scope(info.child) if info is not None and info.child else None
    return child, full


def _build_loop(builder: Builder, args: list[Any], context: Any, reducer: bool) -> Expr:
    children = []
    source = builder.read_child(args[0], context) if args else None
    if source is not None:
        children.append(source)
    if len(args) > 1:
        frame = (None, None) if reducer or source is None else _item_frame(builder, source)
        builder.frames.append(frame)
        try:
            children.append(builder.read_child(args[1], context))
        finally:
            builder.frames.pop()
    children += [builder.read_child(arg, context) for arg in args[2:]]
    expr = Expr("loop", children)
    expr.reads_data = source is not None and source.reads_data
    return expr


def build_each(builder: Builder, args: list[Any], context: Any) -> Expr:
    return _build_loop(builder, args, context, reducer=False)


def build_reduce(builder: Builder, args: list[Any], context: Any) -> Expr:
    return _build_loop(builder, args, context, reducer=True)


def _items(value: Any, run: Any) -> list[Any] | tuple[Any, ...] | None:
    if isinstance(value, list | tuple):
        run.spend(len(value) or 1)
        return value
    return None


def emit_map(_expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    source, body = fns

    def mapped(data: Any, run: Any) -> list[Any]:
        items = _items(source(data, run), run)
        return [] if items is None else [body(item, run) for item in items]

    return mapped


def emit_filter(expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    source = fns[0]
    test = condition(expr.args[1], fns[1])

    def kept(data: Any, run: Any) -> list[Any]:
        items = _items(source(data, run), run)
        return [] if items is None else [item for item in items if test(item, run)]

    return kept


def emit_all(expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    source = fns[0]
    test = condition(expr.args[1], fns[1])

    def every(data: Any, run: Any) -> bool:
        items = _items(source(data, run), run)
        if not items:
            return False
        return all(test(item, run) for item in items)

    return every


def emit_some(expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    source = fns[0]
    test = condition(expr.args[1], fns[1])

    def any_of(data: Any, run: Any) -> bool:
        items = _items(source(data, run), run)
        return bool(items) and any(test(item, run) for item in items)

    return any_of


def emit_none(expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    some = emit_some(expr, fns, _em)
    return lambda data, run: not some(data, run)


def emit_reduce(_expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    source, body = fns[0], fns[1]
    initial = fns[2] if len(fns) > 2 else None

    def reduced(data: Any, run: Any) -> Any:
        accumulator = initial(data, run) if initial is not None else None
        items = _items(source(data, run), run)
        if items is None:
            return accumulator
        for item in items:
            accumulator = body({"current": item, "accumulator": accumulator}, run)
        return accumulator

    return reduced


def emit_merge(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
    def merged(data: Any, run: Any) -> list[Any]:
        out: list[Any] = []
        for fn in fns:
            value = fn(data, run)
            if isinstance(value, list | tuple):
                out.extend(value)
            else:
                out.append(value)
            if len(out) > MAX_ITEMS:
                raise em.error(expr, "expr_value_too_large", what="list")
        return out

    return merged


loop = {"loops": True}
register(Operator("map", emit_map, arity=(2, 2), build=build_each, result=ValueType.LIST,
                  **loop))
register(Operator("filter", emit_filter, arity=(2, 2), build=build_each,
                  result=ValueType.LIST, **loop))
register(Operator("all", emit_all, arity=(2, 2), build=build_each, result=ValueType.BOOLEAN,
                  **loop))
register(Operator("some", emit_some, arity=(2, 2), build=build_each,
                  result=ValueType.BOOLEAN, **loop))
register(Operator("none", emit_none, arity=(2, 2), build=build_each,
                  result=ValueType.BOOLEAN, **loop))
register(Operator("reduce", emit_reduce, arity=(2, 3), build=build_reduce, **loop))
register(Operator("merge", emit_merge, result=ValueType.LIST))
