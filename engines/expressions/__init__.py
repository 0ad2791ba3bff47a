"""One condition and formula language: JSON Logic (jsonlogic.com semantics plus Loom's CRM
operators) and spreadsheet-style formulas, compiled once into Python closures and, where
the meaning maps, into SQLAlchemy expressions. See docs/EXPRESSIONS.md."""

from loom.engines.expressions.compiled import (
    Compiled,
    check_condition,
    compile_condition,
    jsonlogic_apply,
)
from loom.engines.expressions.describe import describe_condition
from loom.engines.expressions.env import Env, RelatedQuery
from loom.engines.expressions.errors import BeyondColumn, ExpressionError, NotTranslatable
from loom.engines.expressions.formula import (
    check_formula,
    compile_formula,
    formula_apply,
    parse_formula,
)
from loom.engines.expressions.scope import FieldInfo, Scope, ValueType

__all__ = [
    "BeyondColumn",
    "Compiled",
    "Env",
    "ExpressionError",
    "FieldInfo",
    "NotTranslatable",
    "RelatedQuery",
    "Scope",
    "ValueType",
    "check_condition",
    "check_formula",
    "compile_condition",
    "compile_formula",
    "describe_condition",
    "formula_apply",
    "jsonlogic_apply",
    "parse_formula",
]
