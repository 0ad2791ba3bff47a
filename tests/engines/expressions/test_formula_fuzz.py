"""Fuzzing the formula language and the JSON Logic compiler: whatever a user types or a
client sends — random text, text built from the language's own tokens, valid formulas with
characters inserted, dropped or swapped, arbitrary JSON trees over every operator, against
arbitrary records — ends in a value or in a LoomError (ExpressionError…) with a message.
Never another exception, never a hang: evaluation is bounded in depth, size and steps."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import loom.engines.expressions  # noqa: F401  (registers the operators)
from loom.engines.expressions import (
    check_condition,
    check_formula,
    compile_condition,
    formula_apply,
    jsonlogic_apply,
)
from loom.engines.expressions.formula import function_names
from loom.engines.expressions.tree import OPERATORS
from loom.metamodel.errors import LoomError, Problem

FUZZ = settings(max_examples=300, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BOUND_SECONDS = 5.0  # far above any real evaluation; a hang or a blow-up fails here
FIELDS = ["amount", "quantity", "name", "stage", "close_date", "items", "customer", "tags",
          "hot", "a", "b"]
PLAIN = (type(None), bool, int, float, Decimal, str, date, datetime)

# --- values and records ----------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-10**30, 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.text(max_size=12), st.sampled_from(["", "0", "1e9999", "2025-02-30", "2025-08-12",
                                           "2025-08-12T09:30:00Z", "NaN", "-0", "线索"]),
    st.dates(), st.datetimes(timezones=st.just(UTC)))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4)),
    max_leaves=12)
records = st.one_of(st.none(), json_values,
                    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6))

# --- formula text ----------------------------------------------------------------------------

TOKENS = [*function_names(), *(name.lower() for name in function_names()), *FIELDS,
          "items.amount", "customer.name", "customer.region", "(", ")", ",", "+", "-", "*",
          "/", "^", "&", "%", "=", "==", "<>", "!=", "<", "<=", ">", ">=", "!", "&&", "||",
          "0", "1", "2.5", "0.1", "1e308", "99999999999999999999", "-1", ".5", "1.", "TRUE",
          "FALSE", "NULL", '"text"', '"d"', '"m"', '"y"', "'x'", '"', "'", '""""', " ", "\t",
          "\n", "{", "}", "[", "]", "$", "#", "__class__", "线索", "ROUND(", "IF(", "SUM("]
VALID_FORMULAS = [
    'IF(amount > 100000, "A", "B")', "ROUND(amount * (1 - BLANKVALUE(customer.discount, 0)), 2)",
    'DATEDIF(close_date, DATE(2025, 8, 12), "m")', "SUM(items.amount)",
    "ADDMONTHS(DATE(2024, 1, 31), 1)", "0.1 + 0.2 = 0.3", 'name & " " & stage',
    "AND(hot, NOT(ISBLANK(name)))", "quantity ^ 2 / (quantity - quantity)",
    'TEXT(amount) & UPPER(name)', "MAX(1, 2, amount) - MIN(quantity, 3)",
]

token_text = st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)
spaced_tokens = st.lists(st.sampled_from(TOKENS), max_size=30).map(" ".join)


@st.composite
def mutated_formulas(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(VALID_FORMULAS))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "replace", "repeat"]))
        piece = draw(st.one_of(st.sampled_from(TOKENS), st.characters()))
        if edit == "insert":
            text = text[:position] + piece + text[position:]
        elif edit == "delete":
            text = text[:position] + text[position + 1:]
        elif edit == "replace":
            text = text[:position] + piece + text[position + 1:]
        else:
            text = text[:position] + text[position:position + 8] * 3 + text[position:]
    return text


formula_texts = st.one_of(st.text(max_size=60), token_text, spaced_tokens, mutated_formulas())

# --- JSON Logic trees ------------------------------------------------------------------------

OPERATOR_NAMES = sorted(OPERATORS)
leaves = st.one_of(scalars, st.builds(lambda name: {"var": name}, st.sampled_from(
    [*FIELDS, "", "items.0.amount", "customer.name", "__class__", "a.b.c", "-1"])))


def _operation(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    name = st.one_of(st.sampled_from(OPERATOR_NAMES), st.text(max_size=6))
    arguments = st.one_of(st.lists(children, max_size=4), children)
    return st.builds(lambda op, args: {op: args}, name, arguments)


rules = st.recursive(leaves, lambda inner: st.one_of(
    _operation(inner), st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(OPERATOR_NAMES), inner, min_size=2, max_size=3)),
    max_leaves=20)

# --- the property ----------------------------------------------------------------------------


def _plain(value: Any) -> bool:
    """A value the platform can store or show: no functions, no objects of the engine."""
    if isinstance(value, list | tuple):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _plain(item) for key, item in value.items())
    return isinstance(value, PLAIN)


def value_or_loom_error(call: Callable[[], Any], *, plain: bool = True) -> Any:
    """Run ``call``: a plain value, or a LoomError that says what is wrong, in bounded
    time. Any other exception propagates and fails the test with its traceback."""
    started = time.perf_counter()
    try:
        result = call()
    except LoomError as exc:
        assert exc.render_detail("en").strip(), f"{type(exc).__name__} without a message"
        assert exc.render_detail("zh-CN").strip()
        result = exc
    elapsed = time.perf_counter() - started
    assert elapsed < BOUND_SECONDS, f"took {elapsed:.1f}s"
    if plain:
        assert isinstance(result, LoomError) or _plain(result), repr(result)
    return result


def assert_problems(found: Any) -> None:
    """A check's answer: problems, each with a message in both languages."""
    if isinstance(found, LoomError):
        return
    assert isinstance(found, list) and all(isinstance(p, Problem) for p in found), found
    for problem in found:
        assert problem.render("en")["message"].strip()
        assert problem.render("zh-CN")["message"].strip()


@FUZZ
@given(text=formula_texts, record=records)
def test_any_formula_text_gives_a_value_or_an_error(text: str, record: Any) -> None:
    value_or_loom_error(lambda: formula_apply(text, record))


@FUZZ
@given(text=formula_texts)
def test_checking_any_formula_text_lists_problems(text: str) -> None:
    assert_problems(value_or_loom_error(lambda: check_formula(text, None), plain=False))


@FUZZ
@given(text=st.sampled_from(VALID_FORMULAS), record=records)
def test_valid_formulas_on_any_record(text: str, record: Any) -> None:
    value_or_loom_error(lambda: formula_apply(text, record))


@FUZZ
@example(rule={"pluck": []}, data=None)  # a node the compiler makes, written by hand
@example(rule={"sum": [{"pluck": "items.amount"}]}, data={"items": [{"amount": 1}]})
@given(rule=rules, data=records)
def test_any_json_logic_gives_a_value_or_an_error(rule: Any, data: Any) -> None:
    value_or_loom_error(lambda: jsonlogic_apply(rule, data))


@FUZZ
@given(rule=st.one_of(rules, json_values))
def test_checking_any_condition_lists_problems(rule: Any) -> None:
    assert_problems(value_or_loom_error(lambda: check_condition(rule, None), plain=False))


@FUZZ
@given(rule=rules, data=st.lists(records, min_size=1, max_size=3))
def test_a_compiled_condition_runs_on_any_record(rule: Any, data: list[Any]) -> None:
    compiled = value_or_loom_error(lambda: compile_condition(rule), plain=False)
    if not isinstance(compiled, LoomError):
        for record in data:
            value_or_loom_error(lambda record=record: compiled.evaluate(record))
