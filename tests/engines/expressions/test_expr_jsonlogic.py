"""JSON Logic conformance: the cases of the jsonlogic.com test suite, and more edge cases
of the standard operators, through the public entry point ``jsonlogic_apply``."""

from __future__ import annotations

from typing import Any

import pytest

from loom.engines.expressions import jsonlogic_apply

# (rule, data, expected) — the jsonlogic.com suite, grouped as it is.
NON_RULES = [
    (True, {}, True), (False, {}, False), (17, {}, 17), (3.14, {}, 3.14),
    ("apple", {}, "apple"), (None, {}, None), (["a", "b"], {}, ["a", "b"]),
]
SINGLE_OPERATORS = [
    ({"==": [1, 1]}, {}, True), ({"==": [1, "1"]}, {}, True), ({"==": [1, 2]}, {}, False),
    ({"===": [1, 1]}, {}, True), ({"===": [1, "1"]}, {}, False), ({"===": [1, 2]}, {}, False),
    ({"!=": [1, 2]}, {}, True), ({"!=": [1, 1]}, {}, False), ({"!=": [1, "1"]}, {}, False),
    ({"!==": [1, 2]}, {}, True), ({"!==": [1, 1]}, {}, False), ({"!==": [1, "1"]}, {}, True),
    ({">": [2, 1]}, {}, True), ({">": [1, 1]}, {}, False), ({">": [1, 2]}, {}, False),
    ({">": ["2", 1]}, {}, True),
    ({">=": [2, 1]}, {}, True), ({">=": [1, 1]}, {}, True), ({">=": [1, 2]}, {}, False),
    ({">=": ["2", 1]}, {}, True),
    ({"<": [2, 1]}, {}, False), ({"<": [1, 1]}, {}, False), ({"<": [1, 2]}, {}, True),
    ({"<": ["1", 2]}, {}, True), ({"<": [1, 2, 3]}, {}, True), ({"<": [1, 1, 3]}, {}, False),
    ({"<": [1, 4, 3]}, {}, False),
    ({"<=": [2, 1]}, {}, False), ({"<=": [1, 1]}, {}, True), ({"<=": [1, 2]}, {}, True),
    ({"<=": ["1", 2]}, {}, True), ({"<=": [1, 2, 3]}, {}, True), ({"<=": [1, 4, 3]}, {}, False),
    ({"!": [False]}, {}, True), ({"!": False}, {}, True), ({"!": [True]}, {}, False),
    ({"!": True}, {}, False), ({"!": 0}, {}, True), ({"!": 1}, {}, False),
    ({"or": [True, True]}, {}, True), ({"or": [False, True]}, {}, True),
    ({"or": [True, False]}, {}, True), ({"or": [False, False]}, {}, False),
    ({"or": [False, False, True]}, {}, True), ({"or": [False, False, False]}, {}, False),
    ({"or": [False]}, {}, False), ({"or": [True]}, {}, True),
    ({"or": [1, 3]}, {}, 1), ({"or": [3, False]}, {}, 3), ({"or": [False, 3]}, {}, 3),
    ({"and": [True, True]}, {}, True), ({"and": [False, True]}, {}, False),
    ({"and": [True, False]}, {}, False), ({"and": [False, False]}, {}, False),
    ({"and": [True, True, True]}, {}, True), ({"and": [True, True, False]}, {}, False),
    ({"and": [False]}, {}, False), ({"and": [True]}, {}, True),
    ({"and": [1, 3]}, {}, 3), ({"and": [3, False]}, {}, False), ({"and": [False, 3]}, {}, False),
    ({"?:": [True, 1, 2]}, {}, 1), ({"?:": [False, 1, 2]}, {}, 2),
    ({"in": ["Bart", ["Bart", "Homer", "Lisa", "Marge", "Maggie"]]}, {}, True),
    ({"in": ["Milhouse", ["Bart", "Homer", "Lisa", "Marge", "Maggie"]]}, {}, False),
    ({"in": ["Spring", "Springfield"]}, {}, True), ({"in": ["i", "team"]}, {}, False),
    ({"cat": "ice"}, {}, "ice"), ({"cat": ["ice"]}, {}, "ice"),
    ({"cat": ["ice", "cream"]}, {}, "icecream"), ({"cat": [1, 2]}, {}, "12"),
    ({"cat": ["Robocop", 2]}, {}, "Robocop2"),
    ({"cat": ["we all scream for ", "ice", "cream"]}, {}, "we all scream for icecream"),
    ({"%": [1, 2]}, {}, 1), ({"%": [2, 2]}, {}, 0), ({"%": [3, 2]}, {}, 1),
    ({"max": [1, 2, 3]}, {}, 3), ({"max": [1, 3, 3]}, {}, 3), ({"max": [3, 2, 1]}, {}, 3),
    ({"max": [1]}, {}, 1),
    ({"min": [1, 2, 3]}, {}, 1), ({"min": [1, 1, 3]}, {}, 1), ({"min": [3, 2, 1]}, {}, 1),
    ({"min": [1]}, {}, 1),
    ({"+": [1, 2]}, {}, 3), ({"+": [2, 2, 2]}, {}, 6), ({"+": [1]}, {}, 1),
    ({"+": ["1", 1]}, {}, 2),
    ({"*": [3, 2]}, {}, 6), ({"*": [2, 2, 2]}, {}, 8), ({"*": [1]}, {}, 1),
    ({"*": ["1", 1]}, {}, 1),
    ({"-": [2, 3]}, {}, -1), ({"-": [3, 2]}, {}, 1), ({"-": [3]}, {}, -3),
    ({"-": ["1", 1]}, {}, 0),
    ({"/": [4, 2]}, {}, 2), ({"/": [2, 4]}, {}, 0.5), ({"/": ["1", 1]}, {}, 1),
]
SUBSTR_AND_MERGE = [
    ({"substr": ["jsonlogic", 4]}, None, "logic"), ({"substr": ["jsonlogic", -5]}, None, "logic"),
    ({"substr": ["jsonlogic", 0, 1]}, None, "j"), ({"substr": ["jsonlogic", -1, 1]}, None, "c"),
    ({"substr": ["jsonlogic", 4, 5]}, None, "logic"),
    ({"substr": ["jsonlogic", -5, 5]}, None, "logic"),
    ({"substr": ["jsonlogic", -5, -2]}, None, "log"),
    ({"substr": ["jsonlogic", 1, -5]}, None, "son"),
    ({"merge": []}, None, []), ({"merge": [[1]]}, None, [1]), ({"merge": [[1], []]}, None, [1]),
    ({"merge": [[1], [2]]}, None, [1, 2]), ({"merge": [[1], [2], [3]]}, None, [1, 2, 3]),
    ({"merge": [[1, 2], [3]]}, None, [1, 2, 3]), ({"merge": [[1], [2, 3]]}, None, [1, 2, 3]),
    ({"merge": 1}, None, [1]), ({"merge": [1, 2]}, None, [1, 2]),
    ({"merge": [1, [2]]}, None, [1, 2]),
]
IF_CASES = [
    ({"if": []}, None, None), ({"if": [True]}, None, True), ({"if": [False]}, None, False),
    ({"if": ["apple"]}, None, "apple"),
    ({"if": [True, "apple"]}, None, "apple"), ({"if": [False, "apple"]}, None, None),
    ({"if": [True, "apple", "banana"]}, None, "apple"),
    ({"if": [False, "apple", "banana"]}, None, "banana"),
    ({"if": [[], "apple", "banana"]}, None, "banana"),
    ({"if": [[1], "apple", "banana"]}, None, "apple"),
    ({"if": [[1, 2, 3, 4], "apple", "banana"]}, None, "apple"),
    ({"if": ["", "apple", "banana"]}, None, "banana"),
    ({"if": ["zucchini", "apple", "banana"]}, None, "apple"),
    ({"if": ["0", "apple", "banana"]}, None, "apple"),
    ({"===": [0, "0"]}, None, False), ({"===": [0, {"+": "0"}]}, None, True),
    ({"if": [{"+": "0"}, "apple", "banana"]}, None, "banana"),
    ({"if": [{"+": "1"}, "apple", "banana"]}, None, "apple"),
    ({"if": [0, "apple", "banana"]}, None, "banana"),
    ({"if": [1, "apple", "banana"]}, None, "apple"),
    ({"if": [3.1416, "apple", "banana"]}, None, "apple"),
    ({"if": [-1, "apple", "banana"]}, None, "apple"),
    ({"!": [[]]}, {}, True), ({"!!": [[]]}, {}, False), ({"and": [[], True]}, {}, []),
    ({"or": [[], True]}, {}, True),
    ({"!": [0]}, {}, True), ({"!!": [0]}, {}, False), ({"and": [0, True]}, {}, 0),
    ({"or": [0, True]}, {}, True),
    ({"!": [""]}, {}, True), ({"!!": [""]}, {}, False), ({"and": ["", True]}, {}, ""),
    ({"or": ["", True]}, {}, True),
    ({"!": ["0"]}, {}, False), ({"!!": ["0"]}, {}, True), ({"and": ["0", True]}, {}, True),
    ({"or": ["0", True]}, {}, "0"),
    ({"if": [{">": [2, 1]}, "apple", "banana"]}, None, "apple"),
    ({"if": [{">": [1, 2]}, "apple", "banana"]}, None, "banana"),
    ({"if": [True, {"cat": ["ap", "ple"]}, {"cat": ["ba", "na", "na"]}]}, None, "apple"),
    ({"if": [False, {"cat": ["ap", "ple"]}, {"cat": ["ba", "na", "na"]}]}, None, "banana"),
    ({"if": [True, "apple", True, "banana"]}, None, "apple"),
    ({"if": [True, "apple", False, "banana"]}, None, "apple"),
    ({"if": [False, "apple", True, "banana"]}, None, "banana"),
    ({"if": [False, "apple", False, "banana"]}, None, None),
    ({"if": [True, "apple", True, "banana", "carrot"]}, None, "apple"),
    ({"if": [True, "apple", False, "banana", "carrot"]}, None, "apple"),
    ({"if": [False, "apple", True, "banana", "carrot"]}, None, "banana"),
    ({"if": [False, "apple", False, "banana", "carrot"]}, None, "carrot"),
    ({"if": [False, "apple", False, "banana", False, "carrot"]}, None, None),
    ({"if": [False, "apple", False, "banana", False, "carrot", "date"]}, None, "date"),
    ({"if": [False, "apple", False, "banana", True, "carrot", "date"]}, None, "carrot"),
    ({"if": [False, "apple", True, "banana", False, "carrot", "date"]}, None, "banana"),
    ({"if": [False, "apple", True, "banana", True, "carrot", "date"]}, None, "banana"),
    ({"if": [True, "apple", False, "banana", False, "carrot", "date"]}, None, "apple"),
    ({"if": [True, "apple", False, "banana", True, "carrot", "date"]}, None, "apple"),
    ({"if": [True, "apple", True, "banana", False, "carrot", "date"]}, None, "apple"),
    ({"if": [True, "apple", True, "banana", True, "carrot", "date"]}, None, "apple"),
    ([1, {"var": "x"}, 3], {"x": 2}, [1, 2, 3]),
    ({"if": [{"var": "x"}, [{"var": "y"}], 99]}, {"x": True, "y": 42}, [42]),
]
COMPOUND_AND_DATA = [
    ({"and": [{">": [3, 1]}, True]}, {}, True), ({"and": [{">": [3, 1]}, False]}, {}, False),
    ({"and": [{">": [3, 1]}, {"!": True}]}, {}, False),
    ({"and": [{">": [3, 1]}, {"<": [1, 3]}]}, {}, True),
    ({"?:": [{">": [3, 1]}, "visible", "hidden"]}, {}, "visible"),
    ({"var": ["a"]}, {"a": 1}, 1), ({"var": ["b"]}, {"a": 1}, None),
    ({"var": ["a"]}, None, None), ({"var": "a"}, {"a": 1}, 1), ({"var": "b"}, {"a": 1}, None),
    ({"var": "a"}, None, None), ({"var": ["a", 1]}, None, 1), ({"var": ["b", 2]}, {"a": 1}, 2),
    ({"var": "a.b"}, {"a": {"b": "c"}}, "c"), ({"var": "a.q"}, {"a": {"b": "c"}}, None),
    ({"var": ["a.q", 9]}, {"a": {"b": "c"}}, 9),
    ({"var": 1}, ["apple", "banana"], "banana"), ({"var": "1"}, ["apple", "banana"], "banana"),
    ({"var": "1.1"}, ["apple", ["banana", "beer"]], "beer"),
    ({"and": [{"<": [{"var": "temp"}, 110]}, {"==": [{"var": "pie.filling"}, "apple"]}]},
     {"temp": 100, "pie": {"filling": "apple"}}, True),
    ({"var": [{"?:": [{"<": [{"var": "temp"}, 110]}, "pie.filling", "pie.eta"]}]},
     {"temp": 100, "pie": {"filling": "apple", "eta": "60s"}}, "apple"),
    ({"in": [{"var": "filling"}, ["apple", "cherry"]]}, {"filling": "apple"}, True),
    ({"var": "a.b.c"}, None, None), ({"var": "a.b.c"}, {"a": None}, None),
    ({"var": "a.b.c"}, {"a": {"b": None}}, None),
    ({"var": ""}, 1, 1), ({"var": None}, 1, 1), ({"var": []}, 1, 1),
]
MISSING = [
    ({"missing": []}, None, []), ({"missing": ["a"]}, None, ["a"]), ({"missing": "a"}, None, ["a"]),
    ({"missing": "a"}, {"a": "apple"}, []), ({"missing": ["a"]}, {"a": "apple"}, []),
    ({"missing": ["a", "b"]}, {"a": "apple"}, ["b"]),
    ({"missing": ["a", "b"]}, {"b": "banana"}, ["a"]),
    ({"missing": ["a", "b"]}, {"a": "apple", "b": "banana"}, []),
    ({"missing": ["a", "b"]}, {}, ["a", "b"]), ({"missing": ["a", "b"]}, None, ["a", "b"]),
    ({"missing": ["a.b"]}, None, ["a.b"]), ({"missing": ["a.b"]}, {"a": "apple"}, ["a.b"]),
    ({"missing": ["a.b"]}, {"a": {"c": "apple cake"}}, ["a.b"]),
    ({"missing": ["a.b"]}, {"a": {"b": "apple brownie"}}, []),
    ({"missing": ["a.b", "a.c"]}, {"a": {"b": "apple brownie"}}, ["a.c"]),
    ({"missing_some": [1, ["a", "b"]]}, {"a": "apple"}, []),
    ({"missing_some": [1, ["a", "b"]]}, {"b": "banana"}, []),
    ({"missing_some": [1, ["a", "b"]]}, {"a": "apple", "b": "banana"}, []),
    ({"missing_some": [1, ["a", "b"]]}, {"c": "carrot"}, ["a", "b"]),
    ({"missing_some": [2, ["a", "b", "c"]]}, {"a": "apple", "b": "banana"}, []),
    ({"missing_some": [2, ["a", "b", "c"]]}, {"a": "apple", "c": "carrot"}, []),
    ({"missing_some": [2, ["a", "b", "c"]]}, {"a": "apple", "b": "banana", "c": "carrot"}, []),
    ({"missing_some": [2, ["a", "b", "c"]]}, {"a": "apple", "d": "durian"}, ["b", "c"]),
    ({"missing_some": [2, ["a", "b", "c"]]}, {"d": "durian", "e": "eggplant"}, ["a", "b", "c"]),
    ({"if": [{"missing": "a"}, "missed it", "found it"]}, {"a": "apple"}, "found it"),
    ({"if": [{"missing": "a"}, "missed it", "found it"]}, {"b": "banana"}, "missed it"),
    ({"missing": {"merge": ["vin", {"if": [{"var": "financing"}, ["apr"], []]}]}},
     {"financing": True}, ["vin", "apr"]),
    ({"missing": {"merge": ["vin", {"if": [{"var": "financing"}, ["apr"], []]}]}},
     {"financing": False}, ["vin"]),
]
INTEGERS = {"integers": [1, 2, 3]}
ITEMS = {"items": [{"qty": 1, "sku": "apple"}, {"qty": 2, "sku": "banana"}]}
DESSERTS = {"desserts": [{"name": "apple", "qty": 1}, {"name": "brownie", "qty": 2},
                         {"name": "cupcake", "qty": 3}]}
ADD = {"+": [{"var": "current"}, {"var": "accumulator"}]}
ARRAYS = [
    ({"filter": [{"var": "integers"}, True]}, INTEGERS, [1, 2, 3]),
    ({"filter": [{"var": "integers"}, False]}, INTEGERS, []),
    ({"filter": [{"var": "integers"}, {">=": [{"var": ""}, 2]}]}, INTEGERS, [2, 3]),
    ({"filter": [{"var": "integers"}, {"%": [{"var": ""}, 2]}]}, INTEGERS, [1, 3]),
    ({"map": [{"var": "integers"}, {"*": [{"var": ""}, 2]}]}, INTEGERS, [2, 4, 6]),
    ({"map": [{"var": "integers"}, {"*": [{"var": ""}, 2]}]}, None, []),
    ({"map": [{"var": "desserts"}, {"var": "qty"}]}, DESSERTS, [1, 2, 3]),
    ({"reduce": [{"var": "integers"}, ADD, 0]}, {"integers": [1, 2, 3, 4]}, 10),
    ({"reduce": [{"var": "integers"}, ADD, {"var": "start_with"}]},
     {"integers": [1, 2, 3, 4], "start_with": 59}, 69),
    ({"reduce": [{"var": "integers"}, ADD, 0]}, None, 0),
    ({"reduce": [{"var": "integers"}, {"*": [{"var": "current"}, {"var": "accumulator"}]}, 1]},
     {"integers": [1, 2, 3, 4]}, 24),
    ({"reduce": [{"var": "integers"}, {"*": [{"var": "current"}, {"var": "accumulator"}]}, 0]},
     {"integers": [1, 2, 3, 4]}, 0),
    ({"reduce": [{"var": "desserts"}, {"+": [{"var": "accumulator"}, {"var": "current.qty"}]},
                 0]}, DESSERTS, 6),
    ({"all": [{"var": "integers"}, {">=": [{"var": ""}, 1]}]}, INTEGERS, True),
    ({"all": [{"var": "integers"}, {"==": [{"var": ""}, 1]}]}, INTEGERS, False),
    ({"all": [{"var": "integers"}, {"<": [{"var": ""}, 1]}]}, INTEGERS, False),
    ({"all": [{"var": "integers"}, {"<": [{"var": ""}, 1]}]}, {"integers": []}, False),
    ({"all": [{"var": "items"}, {">=": [{"var": "qty"}, 1]}]}, ITEMS, True),
    ({"all": [{"var": "items"}, {">": [{"var": "qty"}, 1]}]}, ITEMS, False),
    ({"all": [{"var": "items"}, {"<": [{"var": "qty"}, 1]}]}, ITEMS, False),
    ({"all": [{"var": "items"}, {">=": [{"var": "qty"}, 1]}]}, {"items": []}, False),
    ({"none": [{"var": "integers"}, {">=": [{"var": ""}, 1]}]}, INTEGERS, False),
    ({"none": [{"var": "integers"}, {"==": [{"var": ""}, 1]}]}, INTEGERS, False),
    ({"none": [{"var": "integers"}, {"<": [{"var": ""}, 1]}]}, INTEGERS, True),
    ({"none": [{"var": "integers"}, {"<": [{"var": ""}, 1]}]}, {"integers": []}, True),
    ({"none": [{"var": "items"}, {">=": [{"var": "qty"}, 1]}]}, ITEMS, False),
    ({"none": [{"var": "items"}, {">": [{"var": "qty"}, 1]}]}, ITEMS, False),
    ({"none": [{"var": "items"}, {"<": [{"var": "qty"}, 1]}]}, ITEMS, True),
    ({"none": [{"var": "items"}, {">=": [{"var": "qty"}, 1]}]}, {"items": []}, True),
    ({"some": [{"var": "integers"}, {">=": [{"var": ""}, 1]}]}, INTEGERS, True),
    ({"some": [{"var": "integers"}, {"==": [{"var": ""}, 1]}]}, INTEGERS, True),
    ({"some": [{"var": "integers"}, {"<": [{"var": ""}, 1]}]}, INTEGERS, False),
    ({"some": [{"var": "integers"}, {"<": [{"var": ""}, 1]}]}, {"integers": []}, False),
    ({"some": [{"var": "items"}, {">=": [{"var": "qty"}, 1]}]}, ITEMS, True),
    ({"some": [{"var": "items"}, {">": [{"var": "qty"}, 1]}]}, ITEMS, True),
    ({"some": [{"var": "items"}, {"<": [{"var": "qty"}, 1]}]}, ITEMS, False),
    ({"some": [{"var": "items"}, {">=": [{"var": "qty"}, 1]}]}, {"items": []}, False),
]
SUITE = NON_RULES + SINGLE_OPERATORS + SUBSTR_AND_MERGE + IF_CASES + COMPOUND_AND_DATA \
    + MISSING + ARRAYS


def same(actual: Any, expected: Any) -> bool:
    """Equal, and of the same JSON kind (True is not 1, "1" is not 1)."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            same(a, e) for a, e in zip(actual, expected, strict=True))
    if isinstance(expected, str) or expected is None:
        return actual == expected and type(actual) is type(expected)
    return actual == expected and not isinstance(actual, str)


@pytest.mark.parametrize(("rule", "data", "expected"), SUITE)
def test_jsonlogic_suite(rule: Any, data: Any, expected: Any) -> None:
    assert same(jsonlogic_apply(rule, data), expected)


def test_the_suite_is_complete() -> None:
    assert len(SUITE) >= 270


MORE = [
    # truthiness: "0" and {} are true; 0, "", [], blank are false
    ({"!!": [{}]}, None, True), ({"!!": ["0"]}, None, True), ({"!!": [None]}, None, False),
    ({"!!": [0.0]}, None, False), ({"!!": ["false"]}, None, True),
    # and/or return the deciding value
    ({"and": [1, "a", [1]]}, None, [1]), ({"or": [0, "", None]}, None, None),
    ({"or": [0, "", []]}, None, []),
    # loose equality as JavaScript's ==
    ({"==": [None, None]}, None, True), ({"==": [0, False]}, None, True),
    ({"==": ["", 0]}, None, True), ({"==": [None, 0]}, None, False),
    ({"==": [True, "1"]}, None, True), ({"==": [[1], 1]}, None, True),
    ({"===": [None, None]}, None, True), ({"===": [1, 1.0]}, None, True),
    ({"!==": [True, 1]}, None, True),
    # var: default only when the key is missing; numeric keys into lists
    ({"var": ["a", 5]}, {"a": None}, None), ({"var": ["a", 5]}, {"a": 0}, 0),
    ({"var": "0"}, [7], 7), ({"var": "5"}, [7], None), ({"var": "a.0"}, {"a": [3]}, 3),
    # in
    ({"in": [1, [1, 2]]}, None, True), ({"in": ["1", [1, 2]]}, None, False),
    ({"in": [1, "a1"]}, None, True), ({"in": ["a", None]}, None, False),
    ({"in": [None, "abc"]}, None, False),
    # substr with lengths past the end
    ({"substr": ["abc", 1, 10]}, None, "bc"), ({"substr": ["abc", -10]}, None, "abc"),
    ({"substr": ["abc", 5]}, None, ""),
    # cat writes numbers as JavaScript does
    ({"cat": [1.5, "/", 0.1, True, None]}, None, "1.5/0.1true"),
    ({"cat": [[1, 2], "x"]}, None, "1,2x"),
    # unary plus casts text
    ({"+": "3.5"}, None, 3.5), ({"+": []}, None, 0),
    # merge flattens one level only
    ({"merge": [[1, [2]], 3]}, None, [1, [2], 3]),
    # comparisons between texts compare text, otherwise numbers
    ({"<": ["10", "9"]}, None, True), ({"<": ["10", 9]}, None, False),
    ({"<": ["a", "b"]}, None, True), ({">": ["B", "a"]}, None, False),
    # log returns its argument
    ({"log": "apple"}, None, "apple"),
]


@pytest.mark.parametrize(("rule", "data", "expected"), MORE)
def test_more_standard_edge_cases(rule: Any, data: Any, expected: Any) -> None:
    assert same(jsonlogic_apply(rule, data), expected)


def test_arithmetic_is_exact_decimal() -> None:
    from decimal import Decimal

    assert jsonlogic_apply({"==": [{"+": [0.1, 0.2]}, 0.3]}) is True
    assert jsonlogic_apply({"*": [1.1, 1.1]}) == Decimal("1.21")
    assert jsonlogic_apply({"/": [1, 4]}) == Decimal("0.25")
    assert jsonlogic_apply({"-": [{"var": "a"}, {"var": "b"}]},
                           {"a": Decimal("100.10"), "b": 0.1}) == Decimal("100.00")
    assert isinstance(jsonlogic_apply({"+": [1, 2]}), int)
