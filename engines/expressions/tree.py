"""The expression tree: JSON Logic (and formulas, parsed into JSON Logic) read into typed
nodes, checked against a Scope. Both backends, Python closures and SQL, start from it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from loom.engines.expressions.errors import TYPE_WORDS, ExpressionError
from loom.engines.expressions.scope import Scope, ValueType
from loom.engines.expressions.values import float_number, number_scale
from loom.metamodel.errors import Problem
from loom.metamodel.i18n import Message, message

if TYPE_CHECKING:
    from loom.engines.expressions.python import Emitter
    from loom.engines.expressions.sql import SqlBuilder, SqlValue

MAX_DEPTH = 64
MAX_NODES = 20_000

# A compiled node: (current data, run state) -> value.
Fn = Callable[[Any, Any], Any]


@dataclass(eq=False)
class Expr:
    """One node. ``value`` holds a literal, a ``var`` path or an operator's options."""

    op: str
    args: list[Expr] = field(default_factory=list)
    value: Any = None
    type: ValueType = ValueType.ANY
    scale: int | None = None
    position: int | None = None
    reads_data: bool = False   # depends on the record (else foldable to a constant)
    fn: Fn | None = None       # the closure, once emitted

    @property
    def is_literal(self) -> bool:
        return self.op == "literal"

    def walk(self) -> list[Expr]:
        found = [self]
        for arg in self.args:
            found += arg.walk()
        return found


@dataclass(frozen=True)
class Operator:
    """An operator of the language: how it is read, typed, run in Python and said in SQL.

    ``python(expr, arg_fns, emitter)`` returns the node's closure. ``sql_value`` and
    ``sql_predicate`` translate it (either may be missing); ``prepare`` checks and coerces
    arguments once they are read; ``build`` replaces the default argument reading.
    """

    name: str
    python: Callable[[Expr, list[Fn], Emitter], Fn]
    arity: tuple[int, int | None] = (0, None)
    result: ValueType | Callable[[Expr], ValueType] = ValueType.ANY
    sql_value: Callable[[SqlBuilder, Expr], SqlValue] | None = None
    sql_predicate: Callable[[SqlBuilder, Expr], Any] | None = None
    prepare: Callable[[Expr, Builder], None] | None = None
    build: Callable[[Builder, list[Any], Any], Expr] | None = None
    reads_data: bool = False
    needs_env: bool = False
    loops: bool = False
    formula: str | None = None  # the formula function name shown in messages
    internal: bool = False  # a node the compiler makes (e.g. pluck); no one may write it


OPERATORS: dict[str, Operator] = {}


def register(op: Operator, *aliases: str) -> Operator:
    for name in (op.name, *aliases):
        OPERATORS[name] = op
    return op


def describe(kind: ValueType) -> dict[str, str]:
    return TYPE_WORDS[kind.family if kind.numeric else kind.value]


class Builder:
    """Reads a JSON Logic tree into Exprs; collects problems instead of stopping at the
    first, so a checker can list them all."""

    def __init__(self, scope: Scope | None, *, formula: bool = False,
                 positions: Mapping[int, int] | None = None) -> None:
        self.scope = scope
        self.formula = formula
        self.positions = positions or {}
        self.problems: list[Problem] = []
        self.fatal: list[tuple[Message, int | None]] = []
        self.reads: set[str] = set()
        self.nodes = 0
        self.uses_env = False
        self.loops = False
        # Inside map/filter/reduce the data is an element, not the record.
        self.frames: list[tuple[Scope | None, str | None]] = [(scope, "")]
        self.root: Expr | None = None

    # --- problems -----------------------------------------------------------------------

    def problem(self, key: str, *, field_path: str | None = None, position: int | None = None,
                fatal: bool = False, **params: Any) -> None:
        text = message(key, **params)
        if position is not None:
            text = message("expr_runtime", detail=text, column=position)
        self.problems.append(Problem(field_path, text, code=key))
        if fatal:
            self.fatal.append((message(key, **params), position))

    def raise_fatal(self) -> None:
        if self.fatal:
            detail, position = self.fatal[0]
            raise ExpressionError(detail, position, problems=list(self.problems))

    # --- reading ------------------------------------------------------------------------

    def read(self, node: Any, depth: int = 0) -> Expr:
        self.nodes += 1
        if depth > MAX_DEPTH:
            self.fatal.append((message("expr_too_deep", max=MAX_DEPTH), None))
            raise ExpressionError(message("expr_too_deep", max=MAX_DEPTH))
        if self.nodes > MAX_NODES:
            raise ExpressionError(message("expr_too_large", max=MAX_NODES))
        if isinstance(node, Mapping):
            if len(node) == 1:
                return self.read_operation(node, depth)
            return literal(dict(node))
        if isinstance(node, list | tuple):
            items = [self.read(item, depth + 1) for item in node]
            if all(item.is_literal for item in items):
                return literal([item.value for item in items])
            return Expr("array", items, type=ValueType.LIST,
                        reads_data=any(item.reads_data for item in items))
        if isinstance(node, str) and "\x00" in node:
            # no stored text holds one (PostgreSQL cannot), and a SQL filter would fail
            self.problem("expr_nul", fatal=True)
        return literal(node)

    def read_operation(self, node: Mapping[str, Any], depth: int) -> Expr:
        ((name, raw),) = node.items()
        position = self.positions.get(id(node))
        op = OPERATORS.get(name) if isinstance(name, str) else None
        if op is None or op.internal:
            self.unknown_operator(str(name), position)
            return literal(None)
        args = list(raw) if isinstance(raw, list | tuple) else [raw]
        if op.build is not None:
            expr = op.build(self, args, _Context(depth, position))
        else:
            expr = Expr(name, [self.read(arg, depth + 1) for arg in args], position=position)
        expr.op = op.name
        expr.position = position
        if op.needs_env:
            self.uses_env = True
        if op.loops:
            self.loops = True
        expr.reads_data = expr.reads_data or op.reads_data or any(a.reads_data
                                                                  for a in expr.args)
        if not self.check_arity(op, expr):
            return expr
        if op.prepare is not None:
            op.prepare(expr, self)
        if expr.type is ValueType.ANY:
            expr.type = op.result(expr) if callable(op.result) else op.result
        return expr

    def read_child(self, node: Any, context: _Context) -> Expr:
        return self.read(node, context.depth + 1)

    def check_arity(self, op: Operator, expr: Expr) -> bool:
        low, high = op.arity
        given = len(expr.args)
        if given >= low and (high is None or given <= high):
            return True
        if high is None:
            expected = f"{low}+"
        elif low == high:
            expected = str(low)
        else:
            expected = f"{low}–{high}"
        self.problem("expr_arity", position=expr.position, fatal=True,
                     name=self.name_of(op), expected=expected, given=given)
        return False

    def name_of(self, op: Operator) -> str:
        return (op.formula or op.name.upper()) if self.formula else op.name

    def name_of_op(self, name: str) -> str:
        op = OPERATORS.get(name)
        if op is None or not self.formula:
            return name
        return {"==": "=", "!=": "<>"}.get(name, op.formula or name)

    def unknown_operator(self, name: str, position: int | None) -> None:
        import difflib

        names = sorted(n for n, op in OPERATORS.items()
                       if not op.internal and (n.isidentifier() or not n.isalnum()))
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = message("expr_did_you_mean", suggestion=close[0]) if close else ""
        self.problem("expr_unknown_operator", position=position, fatal=True, name=name,
                     hint=hint)

    # --- fields -------------------------------------------------------------------------

    @property
    def frame_scope(self) -> Scope | None:
        return self.frames[-1][0]

    def note_read(self, path: str) -> None:
        prefix = self.frames[-1][1]
        if prefix is None:
            return
        self.reads.add(f"{prefix}.{path}" if prefix else path)

    def field_type(self, path: str, position: int | None) -> tuple[ValueType, int | None]:
        """Record a read of ``path`` and return its type; unknown fields are problems."""
        self.note_read(path)
        scope = self.frame_scope
        if scope is None or not path:
            return ValueType.ANY, None
        info = scope.lookup(path)
        if info is None:
            self.unknown_field(scope, path, position)
            return ValueType.ANY, None
        return info.type, info.scale

    def unknown_field(self, scope: Scope, path: str, position: int | None) -> None:
        head = path.split(".")[0]
        info = scope.fields.get(head)
        if info is not None and "." in path and not (info.ref or info.child):
            self.problem("expr_not_lookup", field_path=path, position=position, name=head,
                         path=path)
            return
        suggestion = scope.suggest(path)
        hint = message("expr_did_you_mean", suggestion=suggestion) if suggestion else ""
        self.problem("expr_unknown_field", field_path=path, position=position, name=path,
                     entity=scope.label or scope.entity or "", hint=hint)


@dataclass(frozen=True)
class _Context:
    depth: int
    position: int | None


def literal(value: Any) -> Expr:
    """A constant node with the type of its value."""
    return Expr("literal", value=value, type=literal_type(value),
                scale=number_scale(value) if isinstance(value, int | Decimal)
                and not isinstance(value, bool) else None)


def literal_type(value: Any) -> ValueType:
    from datetime import date, datetime

    if value is None:
        return ValueType.NULL
    if isinstance(value, bool):
        return ValueType.BOOLEAN
    if isinstance(value, int):
        return ValueType.INTEGER
    if isinstance(value, Decimal | float):
        return ValueType.NUMBER
    if isinstance(value, str):
        return ValueType.TEXT
    if isinstance(value, datetime):
        return ValueType.DATETIME
    if isinstance(value, date):
        return ValueType.DATE
    if isinstance(value, list | tuple):
        return ValueType.LIST
    return ValueType.OBJECT


def numeric_literal(expr: Expr) -> None:
    """Read a float literal as an exact number (JSON 0.1 is the decimal 0.1)."""
    if expr.is_literal and isinstance(expr.value, float):
        number = float_number(expr.value)
        expr.value = number
        expr.type = ValueType.NUMBER if isinstance(number, Decimal) else ValueType.INTEGER
        expr.scale = number_scale(number) if number is not None else None
