"""The Python backend: each node becomes a closure ``fn(data, run)`` once, at compile time;
evaluation calls closures and never walks the tree."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, tzinfo
from typing import Any

from loom.engines.expressions.env import Env
from loom.engines.expressions.errors import ExpressionError, fail
from loom.engines.expressions.tree import OPERATORS, Expr, Fn
from loom.engines.expressions.values import truthy

MAX_STEPS = 100_000      # loop iterations in one evaluation
MAX_TEXT = 1_000_000     # characters in one text result
MAX_ITEMS = 100_000      # items in one list result


class Run:
    """State of one evaluation: its environment and the steps it may still take."""

    __slots__ = ("env", "steps", "zone")

    def __init__(self, env: Env | None) -> None:
        self.env = env
        self.zone: tzinfo = env.timezone if env is not None else UTC
        self.steps = MAX_STEPS

    def environment(self) -> Env:
        if self.env is None:
            self.env = Env()
        return self.env

    def spend(self, steps: int) -> None:
        self.steps -= steps
        if self.steps < 0:
            raise fail("expr_too_many_steps", max=MAX_STEPS)


class Emitter:
    """Turns Exprs into closures. ``strict`` (formulas) makes runtime faults errors;
    otherwise (conditions) they are blank, as JSON Logic's NaN would be."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict

    def emit(self, expr: Expr) -> Fn:
        if expr.op == "literal":
            value = expr.value

            def constant(_data: Any, _run: Any) -> Any:
                return value

            fn: Fn = constant
        elif expr.op == "array":
            fns = [self.emit(arg) for arg in expr.args]

            def array(data: Any, run: Any) -> Any:
                return [item(data, run) for item in fns]

            fn = array
        else:
            op = OPERATORS[expr.op]
            fn = op.python(expr, [self.emit(arg) for arg in expr.args], self)
        expr.fn = fn
        return fn

    def fault(self, expr: Expr, key: str, **params: Any) -> None:
        """A runtime fault: an error in a formula, blank in a condition."""
        if self.strict:
            raise fail(key, expr.position, **params)

    def error(self, expr: Expr, key: str, **params: Any) -> ExpressionError:
        return fail(key, expr.position, **params)


BOOL_OPS = frozenset({"==", "===", "!=", "!==", "<", "<=", ">", ">=", "!", "!!", "in",
                      "is_blank", "has_role", "changed", "starts_with", "all", "some", "none"})


def exact_bool(expr: Expr) -> bool:
    """True when the node always yields a real bool, so Python's truth is JSON Logic's."""
    if expr.op in BOOL_OPS:
        return True
    if expr.op in ("and", "or"):
        return all(exact_bool(arg) for arg in expr.args)
    return expr.is_literal and isinstance(expr.value, bool)


def condition(expr: Expr, fn: Fn) -> Fn:
    """A closure that yields the JSON Logic truth of ``fn``'s value."""
    if exact_bool(expr):
        return fn

    def test(data: Any, run: Any) -> bool:
        return truthy(fn(data, run))

    return test


def walk(data: Any, parts: tuple[str, ...]) -> Any:
    """Follow a dot path through dicts and lists only; never through attributes."""
    for part in parts:
        if data is None:
            return None
        if data.__class__ is dict or isinstance(data, Mapping):
            data = data.get(part)
        elif isinstance(data, list | tuple):
            if not (part.isascii() and part.isdigit()) or (len(part) > 1 and part[0] == "0"):
                return None
            index = int(part)
            data = data[index] if index < len(data) else None
        else:
            return None
    return data
