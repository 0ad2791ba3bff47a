"""Compiling conditions and formulas, once, into a ``Compiled``: a Python closure, the
fields it reads, and (decided now, not at query time) whether and how it becomes SQL."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Numeric, Text, column
from sqlalchemy.sql import ColumnElement
from sqlalchemy.types import NullType, TypeEngine

from loom.engines.expressions import operators  # noqa: F401  (registers the operators)
from loom.engines.expressions.env import Env
from loom.engines.expressions.errors import ExpressionError, NotTranslatable, fail
from loom.engines.expressions.python import Emitter, Run
from loom.engines.expressions.scope import Scope, ValueType
from loom.engines.expressions.sql import RelatedSource, Resolve, SqlBuilder, UtcDateTime
from loom.engines.expressions.tree import Builder, Expr, Fn
from loom.metamodel.errors import Problem

_TRIAL_ENV = Env(now=datetime(2000, 1, 1, tzinfo=UTC))


class Compiled:
    """A compiled condition or formula.

    ``evaluate(data, env)`` runs it; ``reads`` names the field paths it reads (``"*"``
    when a field name is computed at run time); ``to_sql(resolve, env)`` translates it,
    or raises ``NotTranslatable`` — ``sql_problem`` already says whether it will.
    """

    __slots__ = ("_fn", "_loops", "_shared", "formula", "problems", "reads", "related",
                 "source", "sql_problem", "sql_refusal", "tree", "type")

    def __init__(self, tree: Expr, fn: Fn, *, reads: frozenset[str], source: Any,
                 formula: bool, loops: bool, problems: list[Problem]) -> None:
        self.tree = tree
        self._fn = fn
        self.reads = reads
        self.source = source
        self.formula = formula
        self.type: ValueType = tree.type
        self.problems = problems
        self._loops = loops
        self._shared: Run | None = None
        self.sql_problem: str | None = None
        self.sql_refusal: NotTranslatable | None = None  # the same, as the error to raise
        # the ``related`` aggregates inside, found once: a caller answers them before a run
        self.related: tuple[Expr, ...] = tuple(
            node for node in tree.walk() if node.op == "related" and node.value is not None)

    def __repr__(self) -> str:
        return f"Compiled({self.source!r})"

    def _run(self, env: Env | None) -> Run:
        if self._loops:
            return Run(env)
        shared = self._shared
        if shared is None or shared.env is not env:
            shared = Run(env)
            self._shared = shared
        return shared

    def evaluate(self, data: Mapping[str, Any] | Any, env: Env | None = None) -> Any:
        """The value for ``data`` (a record dict, or any JSON value)."""
        try:
            return self._fn(data, self._run(env))
        except ExpressionError:
            raise
        except RecursionError:
            raise fail("expr_too_deep", max=64) from None
        except Exception as exc:  # a fault the language did not foresee: never a crash
            raise ExpressionError(str(exc) or type(exc).__name__) from exc

    def holds(self, data: Mapping[str, Any] | Any, env: Env | None = None) -> bool:
        """Whether a condition holds (JSON Logic truthiness of its value)."""
        from loom.engines.expressions.values import truthy

        return truthy(self.evaluate(data, env))

    def bind(self, env: Env | None = None) -> Callable[[Any], Any]:
        """A one-argument function of the record, for evaluating many records."""
        fn, loops = self._fn, self._loops
        shared = Run(env)

        def evaluate(data: Any) -> Any:
            try:
                return fn(data, Run(env) if loops else shared)
            except ExpressionError:
                raise
            except Exception as exc:
                raise ExpressionError(str(exc) or type(exc).__name__) from exc

        return evaluate

    def to_sql(self, resolve: Resolve, env: Env | None = None, *, dialect: str | None = None,
               related: RelatedSource | None = None) -> ColumnElement[bool]:
        """A two-valued WHERE clause, true exactly where ``evaluate`` is truthy.

        ``resolve(path)`` gives the column (or scalar subquery) of a field path and
        raises NotTranslatable for paths it cannot reach; ``related(entity)`` gives
        ``(table, resolve)`` of another entity, for ``related`` aggregates.
        """
        if self.sql_refusal is not None:
            raise self.sql_refusal
        builder = SqlBuilder(resolve, env or Env(), dialect=dialect, related=related)
        return builder.predicate(self.tree)

    def to_sql_value(self, resolve: Resolve, env: Env | None = None, *,
                     dialect: str | None = None,
                     related: RelatedSource | None = None) -> ColumnElement[Any]:
        """The expression's value as SQL (a formula in a SELECT or ORDER BY)."""
        if self.sql_refusal is not None:
            raise self.sql_refusal
        builder = SqlBuilder(resolve, env or Env(), dialect=dialect, related=related)
        return builder.value(self.tree).sql


def build(tree: Any, scope: Scope | None, *, formula: bool = False,
          positions: Mapping[int, int] | None = None) -> Builder:
    """Read a tree into a Builder (its ``problems`` list everything found)."""
    builder = Builder(scope, formula=formula, positions=positions)
    try:
        builder.root = builder.read(tree)
    except ExpressionError as exc:
        if not builder.fatal:
            builder.fatal.append((exc.detail, exc.position))  # type: ignore[arg-type]
            builder.problems.append(Problem(None, exc.detail or "", code="expr_limit"))
        builder.root = None
    return builder


def compile_tree(tree: Any, scope: Scope | None, *, formula: bool, source: Any,
                 positions: Mapping[int, int] | None = None) -> Compiled:
    builder = build(tree, scope, formula=formula, positions=positions)
    builder.raise_fatal()
    root = builder.root
    assert root is not None
    fn = Emitter(strict=formula).emit(root)
    compiled = Compiled(root, fn, reads=frozenset(builder.reads), source=source,
                        formula=formula, loops=builder.loops, problems=builder.problems)
    compiled.sql_refusal = _sql_problem(root, scope)
    compiled.sql_problem = compiled.sql_refusal.reason if compiled.sql_refusal else None
    return compiled


def compile_condition(rule: Any, scope: Scope | None = None) -> Compiled:
    """Compile a JSON Logic condition (standard semantics plus Loom's operators)."""
    return compile_tree(rule, scope, formula=False, source=rule)


def _sql_problem(root: Expr, scope: Scope | None) -> NotTranslatable | None:
    """Why the expression has no SQL form (a value beyond a column's reach, ``BeyondColumn``,
    among them), found by translating it once against stand-in columns typed from the
    Scope; None when it translates."""
    def resolve(path: str) -> ColumnElement[Any]:
        info = scope.lookup(path) if scope is not None else None
        kind = info.type if info is not None else ValueType.ANY
        return column(path, _column_type(kind, info.scale if info else None))

    try:
        SqlBuilder(resolve, _TRIAL_ENV, dry=True).predicate(root)
    except NotTranslatable as exc:
        return exc
    except ExpressionError as exc:
        return NotTranslatable(str(exc))
    except Exception as exc:  # SQLAlchemy refusing a construct: no SQL form either
        return NotTranslatable(f"no SQL form ({exc})")
    return None


def _column_type(kind: ValueType, scale: int | None) -> TypeEngine[Any]:
    if kind is ValueType.INTEGER:
        return BigInteger()
    if kind is ValueType.NUMBER:
        return Numeric(38, scale if scale is not None else 10)
    if kind is ValueType.TEXT:
        return Text()
    if kind is ValueType.BOOLEAN:
        return Boolean()
    if kind is ValueType.DATE:
        return Date()
    if kind is ValueType.DATETIME:
        return UtcDateTime()
    return NullType()


def check_condition(rule: Any, scope: Scope | None) -> list[Problem]:
    """Everything wrong with a condition: unknown fields (with did-you-mean), type
    mismatches, bad arity, unknown operators."""
    return build(rule, scope).problems


def jsonlogic_apply(rule: Any, data: Any = None) -> Any:
    """Apply a JSON Logic rule to data with standard semantics: compile, then run."""
    return compile_condition(rule).evaluate(data)
