"""A small reference interpreter for the subset of conditions the property tests generate,
written straight from the documented semantics and sharing no code with the compiler."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

TODAY = date(2025, 6, 15)


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and value != [] and not (
        isinstance(value, Decimal) and value == 0)


def evaluate(rule: Any, record: dict[str, Any]) -> Any:
    if not isinstance(rule, dict):
        if isinstance(rule, str) and len(rule) == 10 and rule[4] == "-":
            return date.fromisoformat(rule)
        return rule
    ((op, args),) = rule.items()
    args = args if isinstance(args, list) else [args]
    if op == "var":
        return record.get(args[0])
    if op == "today":
        return TODAY
    if op == "and":
        value = None
        for arg in args:
            value = evaluate(arg, record)
            if not truthy(value):
                return value
        return value
    if op == "or":
        value = None
        for arg in args:
            value = evaluate(arg, record)
            if truthy(value):
                return value
        return value
    if op == "if":
        return evaluate(args[1] if truthy(evaluate(args[0], record)) else args[2], record)
    if op == "in" and isinstance(args[1], list):
        needle = evaluate(args[0], record)
        return any(same(needle, item) for item in args[1])
    values = [evaluate(arg, record) for arg in args]
    return OPERATIONS[op](*values)


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) != isinstance(b, str):
        return False
    return a == b


def order(a: Any, b: Any, strict: bool) -> bool:
    if a is None or b is None:
        return False
    return a < b if strict else a <= b


def chain(strict: bool) -> Any:
    def compare(*values: Any) -> bool:
        return all(order(a, b, strict) for a, b in itertools.pairwise(values))

    return compare


def arithmetic(operation: Any) -> Any:
    def apply(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        if isinstance(a, date):
            from datetime import timedelta

            return a + timedelta(days=b) if operation is add else a - timedelta(days=b)
        return operation(Decimal(a), Decimal(b))

    return apply


def add(a: Decimal, b: Decimal) -> Decimal:
    return a + b


def contains(needle: Any, haystack: Any) -> bool:
    return isinstance(needle, str) and isinstance(haystack, str) and needle in haystack


OPERATIONS: dict[str, Any] = {
    "==": same, "!=": lambda a, b: not same(a, b),
    "<": chain(True), "<=": chain(False),
    ">": lambda a, b: order(b, a, True), ">=": lambda a, b: order(b, a, False),
    "!": lambda a: not truthy(a), "!!": truthy,
    "+": arithmetic(add), "-": arithmetic(lambda a, b: a - b),
    "*": arithmetic(lambda a, b: a * b),
    "in": contains, "is_blank": lambda a: a is None or a == "",
    "starts_with": lambda a, b: isinstance(a, str) and isinstance(b, str) and a.startswith(b),
    "days_since": lambda a: None if a is None else (TODAY - a).days,
}
