"""Formula text: spreadsheet-style syntax, exact decimals, Excel-like dates, blanks, and
errors that point at their column in the reader's language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from loom.engines.expressions import (
    Env,
    ExpressionError,
    compile_formula,
    formula_apply,
    parse_formula,
)

ENV = Env.at(datetime(2025, 3, 1, 1, 30, tzinfo=UTC), ZoneInfo("Asia/Shanghai"),
             prior={"stage": "lead"}, changed=frozenset({"stage"}))
RECORD = {
    "amount": Decimal("120000.50"), "quantity": 3, "price": Decimal("19.99"),
    "name": "Acme", "region": None, "start_date": date(2024, 1, 31),
    "close_date": date(2025, 3, 31), "stage": "won", "discount": None,
    "items": [{"amount": Decimal("10.10")}, {"amount": None}, {"amount": Decimal("0.20")}],
    "customer": {"region": "East"},
}


def calc(text: str, data: Any = RECORD) -> Any:
    return compile_formula(text).evaluate(data, ENV)


VALUES = [
    ("0.1 + 0.2", Decimal("0.3")), ("0.1 + 0.2 = 0.3", True), ("1 / 3 * 3 = 1", False),
    ("ROUND(2.5, 0)", 3), ("ROUND(-2.5, 0)", -3), ("ROUND(1.005, 2)", Decimal("1.01")),
    ("ROUND(2.675, 2)", Decimal("2.68")), ("ROUND(1234.5678, -2)", 1200),
    ("ROUND(price * quantity, 1)", Decimal("60.0")), ("price * quantity", Decimal("59.97")),
    ("10 / 4", Decimal("2.5")), ("7 - 2 * 3", 1), ("(7 - 2) * 3", 15), ("-2 * -3", 6),
    ("2 * 3 & \"x\"", "6x"), ("1 + 2 = 3 && 2 > 1", True), ("!(1 > 2)", True),
    ('IF(amount > 100000, "A", "B")', "A"), ('IF(amount > 1000000, "A", "B")', "B"),
    ("IF(amount > 1000000, 1)", None),
    ('CASE(stage, "won", 1, "lost", -1, 0)', 1), ('CASE(region, "East", 1, 0)', 0),
    ("AND(amount > 0, quantity = 3)", True), ("OR(amount < 0, quantity <> 3)", False),
    ("AND(1, 2)", True), ("NOT(ISBLANK(name))", True),
    ("amount = 120000.5", True), ("amount == 120000.50", True), ("amount <> 1", True),
    ("amount != 1", True), ('name = "acme"', False), ('name = "Acme"', True),
    # blanks stay blank: comparisons are false, arithmetic is blank, & joins nothing
    ("discount > 0", False), ("discount < 0", False), ("discount = 0", False),
    ("amount * discount", None), ("ISBLANK(discount)", True), ("ISBLANK(region)", True),
    ('BLANKVALUE(discount, 0) + 1', 1), ('BLANKVALUE(region, "n/a")', "n/a"),
    ('name & " / " & region', "Acme / "), ("TEXT(discount)", None),
    ("SUM(items.amount)", Decimal("10.30")), ("SUM(1, discount, 2)", 3), ("SUM()", 0),
    ("SUM(quantity, items.amount)", Decimal("13.30")),
    ("MIN(3, discount, 1)", 1), ("MAX(quantity, 10)", 10),
    # text
    ("LEN(name)", 4), ("LEN(region)", 0), ('CONTAINS(name, "cm")', True),
    ('CONTAINS(name, "CM")', False), ('BEGINS(name, "Ac")', True), ('BEGINS(region, "")', False),
    ("TEXT(amount)", "120000.5"), ("TEXT(quantity) & \"pcs\"", "3pcs"),
    ("TEXT(start_date)", "2024-01-31"), ('VALUE("12.50") + 1', Decimal("13.50")),
    ('VALUE("1,200")', 1200), ("UPPER(name)", "ACME"), ('TRIM("  x ")', "x"),
    ('"say ""hi"""', 'say "hi"'), ("'single'", "single"), ('"a\\"b"', 'a"b'),
    ("customer.region", "East"), ("TRUE", True), ("false", False), ("NULL", None),
    # dates
    ("TODAY()", date(2025, 3, 1)), ("NOW()", datetime(2025, 3, 1, 1, 30, tzinfo=UTC)),
    ("DATE(2025, 8, 12)", date(2025, 8, 12)), ('DATE("2025-08-12")', date(2025, 8, 12)),
    ("ADDMONTHS(start_date, 1)", date(2024, 2, 29)),
    ("ADDMONTHS(DATE(2025, 1, 31), 1)", date(2025, 2, 28)),
    ("ADDMONTHS(DATE(2025, 2, 28), 1)", date(2025, 3, 31)),
    ("ADDMONTHS(DATE(2025, 3, 31), -1)", date(2025, 2, 28)),
    ("ADDMONTHS(DATE(2025, 1, 15), 12)", date(2026, 1, 15)),
    ('DATEDIF(start_date, close_date, "d")', 425),
    ('DATEDIF(start_date, close_date, "m")', 14), ('DATEDIF(start_date, close_date, "y")', 1),
    ('DATEDIF(DATE(2024, 1, 31), DATE(2024, 2, 29), "m")', 0),
    ('DATEDIF(DATE(2024, 2, 29), DATE(2025, 2, 28), "y")', 0),
    ('DATEDIF(DATE(2024, 2, 29), DATE(2025, 3, 1), "y")', 1),
    ('DATEDIF(DATE(2020, 5, 15), DATE(2025, 3, 10), "ym")', 9),
    ('DATEDIF(DATE(2025, 1, 20), DATE(2025, 3, 10), "md")', 18),
    ('DATEDIF(DATE(2024, 6, 1), DATE(2025, 3, 1), "yd")', 273),
    ('DATEDIF(DATE(2025, 1, 1), DATE(2025, 1, 1), "d")', 0),
    ("close_date - TODAY()", 30), ("TODAY() + 30", date(2025, 3, 31)),
    ("DAYS_SINCE(start_date)", 395), ("DAYS_UNTIL(close_date)", 30),
    ('DATE_ADD(close_date, 2, "weeks")', date(2025, 4, 14)),
    ("YEAR(close_date) * 100 + MONTH(close_date)", 202503),
    ("close_date > TODAY()", True), ('close_date = "2025-03-31"', True),
    # the save
    ("ISCHANGED(stage)", True), ("ISCHANGED(amount)", False), ("PRIORVALUE(stage)", "lead"),
    ('AND(ISCHANGED(stage), PRIORVALUE(stage) = "lead", stage = "won")', True),
]


@pytest.mark.parametrize(("text", "expected"), VALUES)
def test_formula_values(text: str, expected: Any) -> None:
    result = calc(text)
    assert result == expected
    assert type(result) is type(expected) or (isinstance(expected, int | Decimal) and \
        isinstance(result, int | Decimal) and not isinstance(result, bool))


def test_function_names_are_case_insensitive() -> None:
    assert calc('if(round(2.5), "yes", "no")') == "yes"


def test_formula_apply_is_the_conformance_entry_point() -> None:
    assert formula_apply("amount * 2", {"amount": Decimal("0.1")}) == Decimal("0.2")
    assert formula_apply("1 + 1") == 2


ERRORS = [
    # (formula, column of the error, words in the English message)
    ("1 / 0", 3, "division by zero"), ("amount / (quantity - 3)", 8, "division by zero"),
    ('1 + "abc"', 3, "is not a number"), ('VALUE("12x")', 1, "is not a number"),
    ('DATEDIF(close_date, start_date, "d")', 1, "start date is after the end date"),
    ('DATEDIF(start_date, close_date, "q")', 1, "is not one of"),
    ('DATE(2025, 2, 30)', 1, "is not a date"),
    ("IF(amount > , 1)", 13, "unexpected ','"), ("(1 + 2", 7, "ends too early"),
    ("1 +", 4, "ends too early"), ("", 1, "ends too early"), ("1 2", 3, "unexpected '2'"),
    ('"open', 1, "not closed"), ("amount # 2", 8, "unexpected '#'"),
    ("IFF(amount, 1)", 1, "no function IFF (did you mean IF?)"),
    ("ROUND()", 1, "ROUND takes 1–2 argument(s), not 0"),
    ("IF(TRUE, 1, 2) )", 16, "unexpected ')'"), ("SUM(1,)", 7, "unexpected ')'"),
]


@pytest.mark.parametrize(("text", "column", "words"), ERRORS)
def test_formula_errors_name_their_column(text: str, column: int, words: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        calc(text)
    error = caught.value
    assert error.position == column
    assert words in str(error)
    assert f"{column}" in error.render_detail("zh-CN")


def test_errors_read_in_chinese() -> None:
    with pytest.raises(ExpressionError) as caught:
        calc("1 / 0")
    assert caught.value.render_detail("zh-CN") == "除数为零（第 3 列）"
    with pytest.raises(ExpressionError) as caught:
        calc("IF(amount > , 1)")
    assert caught.value.render_detail("zh-CN") == "公式第 13 列有误：不应出现“,”"


def test_too_much_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(ExpressionError, match="nested too deeply"):
        calc("(" * 500 + "1" + ")" * 500)
    with pytest.raises(ExpressionError, match="nested too deeply"):
        calc("-" * 500 + "1")


def test_formulas_parse_into_json_logic() -> None:
    tree, _positions, _ = parse_formula('IF(amount > 100, "A", "B")')
    assert tree == {"if": [{">": [{"var": "amount"}, 100]}, "A", "B"]}
    tree, _positions, _ = parse_formula("a + b + c & d")
    assert tree == {"cat": [{"+": [{"var": "a"}, {"var": "b"}, {"var": "c"}]}, {"var": "d"}]}
    assert parse_formula("CONTAINS(name, \"x\")")[0] == {"in": ["x", {"var": "name"}]}
    assert parse_formula("-1.50")[0] == Decimal("-1.50")


def test_compiled_formula_knows_what_it_reads_and_returns() -> None:
    compiled = compile_formula("ROUND(price * quantity, 2) + SUM(items.amount)")
    assert compiled.reads == {"price", "quantity", "items.amount"}
    assert compiled.type.value == "number"
    assert compile_formula("IF(a, \"x\", \"y\")").type.value == "text"
