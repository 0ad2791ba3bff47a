"""Hostile input: attribute probing, deep nesting, huge structures, runaway loops and
growth. Every case ends with a value or an ExpressionError — no crash, hang or escape."""

from __future__ import annotations

import time
from typing import Any

import pytest

from loom.engines.expressions import (
    ExpressionError,
    compile_condition,
    formula_apply,
    jsonlogic_apply,
)


class Secretive:
    """An object whose attributes must stay out of reach."""

    token = "s3cret"

    def get(self, key: str) -> Any:
        raise AssertionError("var must never call methods on the data")

    def __getitem__(self, key: str) -> Any:
        raise AssertionError("var must never index arbitrary objects")


PROBES = [
    {"var": "__class__"}, {"var": "__class__.__mro__"}, {"var": "a.__dict__"},
    {"var": "__init__.__globals__"}, {"var": "constructor.prototype"},
    {"var": "upper"}, {"var": "token"}, {"var": ["__class__", "fallback-is-fine"]},
    {"var": "a.0.__class__"}, {"var": "-1"}, {"var": "a.-1"}, {"var": "a.01"},
    {"missing": ["__class__"]}, {"var": [{"cat": ["__cl", "ass__"]}]},
]


@pytest.mark.parametrize("rule", PROBES)
@pytest.mark.parametrize("data", [{"a": [1, 2]}, Secretive(), "text", [1, 2], None, 3])
def test_var_walks_dicts_and_lists_only(rule: Any, data: Any) -> None:
    result = jsonlogic_apply(rule, data)
    assert result in (None, "fallback-is-fine", ["__class__"], [])


def test_dict_keys_that_look_like_attributes_are_just_keys() -> None:
    assert jsonlogic_apply({"var": "__class__"}, {"__class__": "plain"}) == "plain"


def test_deep_nesting_is_refused_before_recursion() -> None:
    rule: Any = True
    for _ in range(100_000):
        rule = {"!": [rule]}
    with pytest.raises(ExpressionError, match="nested too deeply"):
        compile_condition(rule)
    nested: Any = 1
    for _ in range(100_000):
        nested = [nested]
    with pytest.raises(ExpressionError, match="nested too deeply"):
        compile_condition({"==": [nested, 1]})


def test_huge_expressions_are_refused() -> None:
    with pytest.raises(ExpressionError, match="too large"):
        compile_condition({"and": [{"==": [{"var": "a"}, i]} for i in range(20_000)]})
    with pytest.raises(ExpressionError, match="too long"):
        formula_apply("1+" * 6000 + "1")


def test_nested_loops_run_out_of_steps() -> None:
    row = list(range(1000))
    data = {"rows": [row] * 1000}
    rule = {"map": [{"var": "rows"}, {"map": [{"var": ""}, {"+": [{"var": ""}, 1]}]}]}
    started = time.perf_counter()
    with pytest.raises(ExpressionError, match="too many steps"):
        compile_condition(rule).evaluate(data)
    assert time.perf_counter() - started < 2


def test_doubling_text_and_lists_stop() -> None:
    data = {"xs": list(range(60))}
    text = {"reduce": [{"var": "xs"}, {"cat": [{"var": "accumulator"},
                                                {"var": "accumulator"}]}, "ab"]}
    with pytest.raises(ExpressionError, match="too large"):
        jsonlogic_apply(text, data)
    items = {"reduce": [{"var": "xs"}, {"merge": [{"var": "accumulator"},
                                                   {"var": "accumulator"}]}, [1]]}
    with pytest.raises(ExpressionError, match="too large"):
        jsonlogic_apply(items, data)


def test_runaway_numbers_stop() -> None:
    square = {"reduce": [{"var": "xs"}, {"*": [{"var": "accumulator"},
                                               {"var": "accumulator"}]}, 3]}
    with pytest.raises(ExpressionError, match="too large"):
        jsonlogic_apply(square, {"xs": list(range(40))})
    with pytest.raises(ExpressionError, match="too large"):
        jsonlogic_apply({"*": [1e40, 1e40]})
    with pytest.raises(ExpressionError, match="not a number"):
        formula_apply("1" * 200)
    assert jsonlogic_apply({"+": ["1" * 5000, 1]}) is None


def test_formula_text_is_never_executed() -> None:
    for text in ("__import__('os').system('true')", "exec(\"1\")", "eval(1)",
                 "lambda: 1", "a.__class__", "{}.__class__", "`ls`", "1; 2"):
        try:
            result = formula_apply(text, {"a": 1})
        except ExpressionError:
            continue
        assert result is None


def test_weird_json_is_data_or_an_error() -> None:
    assert jsonlogic_apply({"a": 1, "b": 2}) == {"a": 1, "b": 2}
    assert jsonlogic_apply({}) == {}
    with pytest.raises(ExpressionError):
        compile_condition({1: 2})
    with pytest.raises(ExpressionError):
        compile_condition({"var": [1, 2, 3]})
    # NaN is false, as in JavaScript
    assert jsonlogic_apply({"if": [{"var": "x"}, {"var": "x"}]}, {"x": float("nan")}) is None
