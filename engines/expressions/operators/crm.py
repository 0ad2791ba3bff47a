"""The save and the user: ``changed``, ``prior``, ``current_user``, ``has_role``.

``changed`` and ``prior`` read the environment of a save (the record before it and the
names of the fields it changes); outside a save ``changed`` is false and ``prior`` blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loom.engines.expressions.operators.data import split_path
from loom.engines.expressions.python import Emitter, walk
from loom.engines.expressions.scope import ValueType
from loom.engines.expressions.tree import Builder, Expr, Fn, Operator, register
from loom.engines.expressions.tree import literal as literal_expr
from loom.engines.expressions.values import js_text


def build_fields(builder: Builder, args: list[Any], context: Any) -> Expr:
    """Arguments naming fields: ``"status"`` in JSON, ``status`` (a field) in formulas."""
    paths: list[str] = []
    for arg in args:
        if isinstance(arg, Mapping) and set(arg) == {"var"}:
            inner = arg["var"]
            arg = inner[0] if isinstance(inner, list) and inner else inner
        if isinstance(arg, list):
            paths += [js_text(item) for item in arg]
        elif isinstance(arg, str | int) and not isinstance(arg, bool):
            paths.append(js_text(arg))
        else:
            builder.problem("expr_bad_argument", position=context.position, fatal=True,
                            name="changed/prior", detail="name a field, e.g. \"status\"")
    kind, scale = ValueType.ANY, None
    for path in paths:
        kind, scale = builder.field_type(path, context.position)
    return Expr("fields", [literal_expr(path) for path in paths], value=tuple(paths),
                type=kind, scale=scale)


def emit_changed(expr: Expr, _fns: list[Fn], _em: Emitter) -> Fn:
    names = frozenset(expr.value)

    def changed(_data: Any, run: Any) -> bool:
        fields = run.environment().changed
        return bool(fields) and not names.isdisjoint(fields)

    return changed


def emit_prior(expr: Expr, _fns: list[Fn], _em: Emitter) -> Fn:
    parts = split_path(expr.value[0]) if expr.value else ()

    def prior(_data: Any, run: Any) -> Any:
        before = run.environment().prior
        return None if before is None else walk(before, parts)

    return prior


def emit_current_user(_expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    key_of = fns[0] if fns else None

    def current_user(data: Any, run: Any) -> Any:
        user = run.environment().user
        key = key_of(data, run) if key_of else "id"
        return walk(user, split_path(key or "id"))

    return current_user


def emit_has_role(_expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    def has_role(data: Any, run: Any) -> bool:
        roles = run.environment().roles()
        for fn in fns:
            wanted = fn(data, run)
            names = wanted if isinstance(wanted, list) else [wanted]
            if any(js_text(name) in roles for name in names):
                return True
        return False

    return has_role


def result_current_user(expr: Expr) -> ValueType:
    if not expr.args:
        return ValueType.INTEGER
    key = expr.args[0].value if expr.args[0].is_literal else None
    if key == "id" or key == "department":
        return ValueType.INTEGER
    if key == "roles":
        return ValueType.LIST
    return ValueType.TEXT if key in ("email", "name") else ValueType.ANY


env = {"needs_env": True}
register(Operator("changed", emit_changed, arity=(1, None), build=build_fields,
                  result=ValueType.BOOLEAN, formula="ISCHANGED", **env))
register(Operator("prior", emit_prior, arity=(1, 1), build=build_fields,
                  formula="PRIORVALUE", **env))
register(Operator("current_user", emit_current_user, arity=(0, 1),
                  result=result_current_user, formula="CURRENT_USER", **env))
register(Operator("has_role", emit_has_role, arity=(1, None), result=ValueType.BOOLEAN,
                  formula="HAS_ROLE", **env))
