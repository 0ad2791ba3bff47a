"""List membership in stored lists: ``{"includes": [list, value]}`` (formula
``INCLUDES(list, value)``).

True when ``list`` — a multiselect or JSON list field, also through a lookup
(``team.members``) — holds ``value``; when ``value`` is itself a list, when it holds any of
them. Items and values compare as text (``5`` matches ``"5"``: lists of people hold ids or
emails alike), only text and whole-number items count, and a blank never matches. It is
what "my team" needs: ``{"includes": [{"var": "team.members"}, [{"current_user": "id"},
{"current_user": "email"}]]}``.

In SQL it is an ``EXISTS`` over the list's elements (``json_each`` on SQLite,
``json_array_elements`` on PostgreSQL), so a list filter or a permission stays one query.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, String, false, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.expression import FunctionElement

from loom.engines.expressions.errors import NotTranslatable
from loom.engines.expressions.python import Emitter
from loom.engines.expressions.scope import ValueType
from loom.engines.expressions.sql import SqlBuilder
from loom.engines.expressions.tree import Expr, Fn, Operator, register


def member_text(item: Any) -> str | None:
    """The text an item compares by; None for items that never match (blanks, booleans,
    fractions, objects)."""
    if isinstance(item, bool) or item is None:
        return None
    if isinstance(item, str):
        return item or None
    if isinstance(item, int):
        return str(item)
    if isinstance(item, Decimal) and item == item.to_integral_value():
        return str(int(item))
    return None


def _wanted(value: Any) -> set[str]:
    values = value if isinstance(value, list | tuple) else [value]
    return {text for text in (member_text(v) for v in values) if text is not None}


def emit_includes(_expr: Expr, fns: list[Fn], _em: Emitter) -> Fn:
    list_of, value_of = fns

    def includes(data: Any, run: Any) -> bool:
        held = list_of(data, run)
        if not isinstance(held, list | tuple):
            return False
        wanted = _wanted(value_of(data, run))
        return bool(wanted) and any(member_text(item) in wanted for item in held)

    return includes


class ListIncludes(FunctionElement[bool]):
    """A JSON list column (or subquery) holds one of the bound texts."""

    type = Boolean()
    inherit_cache = True
    name = "list_includes"


@compiles(ListIncludes)
def _includes_sqlite(element: ListIncludes, compiler: Any, **kw: Any) -> str:
    held, *values = (compiler.process(c, **kw) for c in element.clauses)
    return (f"EXISTS (SELECT 1 FROM json_each(CASE WHEN json_type({held}) = 'array' "
            f"THEN {held} ELSE '[]' END) AS loom_item WHERE loom_item.type IN "
            f"('text', 'integer') AND CAST(loom_item.value AS TEXT) IN ({', '.join(values)}))")


@compiles(ListIncludes, "postgresql")
def _includes_pg(element: ListIncludes, compiler: Any, **kw: Any) -> str:
    held, *values = (compiler.process(c, **kw) for c in element.clauses)
    as_json = f"CAST({held} AS json)"
    return (f"EXISTS (SELECT 1 FROM json_array_elements(CASE WHEN json_typeof({as_json}) = "
            f"'array' THEN {as_json} ELSE CAST('[]' AS json) END) AS loom_item(v) WHERE "
            f"json_typeof(loom_item.v) IN ('string', 'number') AND (loom_item.v #>> '{{}}') "
            f"IN ({', '.join(values)}))")


def sql_includes(sql: SqlBuilder, expr: Expr) -> ColumnElement[bool]:
    list_expr, value_expr = expr.args
    if value_expr.reads_data:
        raise NotTranslatable("'includes' needs a value that does not read the record")
    held = sql.value(list_expr)
    if held.const:
        raise NotTranslatable("'includes' needs a list field")
    wanted = sorted(_wanted(sql.constant(value_expr).value))
    if not wanted:
        return false()
    return ListIncludes(held.sql, *(literal(text, String()) for text in wanted))


register(Operator("includes", emit_includes, arity=(2, 2), result=ValueType.BOOLEAN,
                  sql_predicate=sql_includes, formula="INCLUDES"))
