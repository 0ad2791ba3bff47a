"""Static checks against an entity: unknown fields with did-you-mean, type mismatches,
bad arity, unknown operators, options; and which fields an expression reads."""

from __future__ import annotations

from typing import Any

import pytest
from expr_factories import crm_app

from loom.engines.expressions import (
    ExpressionError,
    Scope,
    ValueType,
    check_condition,
    check_formula,
    compile_condition,
    compile_formula,
)

LEAD = Scope.for_entity(crm_app(), "lead")


def messages(problems: list[Any], locale: str = "en") -> list[str]:
    return [problem.render(locale)["message"] for problem in problems]


def test_scope_knows_field_types_lookups_and_subtables() -> None:
    assert LEAD.lookup("amount").type is ValueType.NUMBER
    assert LEAD.lookup("amount").scale == 2
    assert LEAD.lookup("quantity").type is ValueType.INTEGER
    assert LEAD.lookup("created_at").type is ValueType.DATETIME
    assert LEAD.lookup("customer.region").type is ValueType.TEXT
    assert LEAD.lookup("items.amount").type is ValueType.LIST
    assert LEAD.lookup("total").type is ValueType.NUMBER
    assert LEAD.lookup("customer.nope") is None
    assert LEAD.lookup("nope") is None


def test_a_clean_condition_has_no_problems() -> None:
    rule = {"and": [{">": [{"var": "amount"}, 1000]}, {"==": [{"var": "stage"}, "won"]},
                    {"<": [{"var": "close_date"}, "2025-12-31"]},
                    {"==": [{"var": "customer.region"}, "East"]},
                    {"in": [{"var": "stage"}, ["new", "won"]]}]}
    assert check_condition(rule, LEAD) == []


def test_unknown_fields_suggest_the_closest_name() -> None:
    problems = check_condition({">": [{"var": "amout"}, 1]}, LEAD)
    assert [p.field for p in problems] == ["amout"]
    assert messages(problems) == ["'amout' is not a field of Lead (did you mean amount?)"]
    assert messages(problems, "zh-CN") == ["“amout”不是线索的字段（您是想用 amount 吗？）"]
    problems = check_condition({"==": [{"var": "customer.regoin"}, "x"]}, LEAD)
    assert "did you mean customer.region?" in messages(problems)[0]
    problems = check_condition({"==": [{"var": "name.first"}, "x"]}, LEAD)
    assert "'name' is not a lookup" in messages(problems)[0]


def test_type_mismatches() -> None:
    problems = check_condition({">": [{"var": "amount"}, "abc"]}, LEAD)
    assert messages(problems) == ['> compares a number with "abc"']
    assert check_condition({">": [{"var": "amount"}, "100"]}, LEAD) == []
    problems = check_condition({"<": [{"var": "close_date"}, 5]}, LEAD)
    assert messages(problems) == ["< compares a date with a number"]
    problems = check_condition({"==": [{"var": "name"}, {"var": "close_date"}]}, LEAD)
    assert messages(problems) == ["== compares text with a date"]


def test_select_values_must_be_options() -> None:
    problems = check_condition({"==": [{"var": "stage"}, "wonn"]}, LEAD)
    assert messages(problems) == ["'wonn' is not an option of stage (did you mean won?)"]
    problems = check_condition({"in": [{"var": "stage"}, ["new", "closed"]]}, LEAD)
    assert "'closed' is not an option" in messages(problems)[0]


def test_structural_problems() -> None:
    assert messages(check_condition({"frobnicate": [1]}, LEAD)) == [
        "there is no operator 'frobnicate'"]
    assert "did you mean missing?" in messages(check_condition({"mising": ["a"]}, LEAD))[0]
    assert messages(check_condition({"==": [1]}, LEAD)) == [
        "== takes 2 argument(s), not 1"]
    with pytest.raises(ExpressionError, match="no operator 'frobnicate'"):
        compile_condition({"frobnicate": [1]})


def test_formula_problems_carry_their_column() -> None:
    problems = check_formula("IF(amout > 1, 1, 0)", LEAD)
    assert messages(problems) == [
        "'amout' is not a field of Lead (did you mean amount?) (at column 4)"]
    assert messages(check_formula('amount > "abc"', LEAD)) == [
        '> compares a number with "abc" (at column 8)']
    assert messages(check_formula("IF(", LEAD)) == [
        "Formula error at column 4: the formula ends too early"]
    assert check_formula("ROUND(amount * quantity, 2) + SUM(items.amount)", LEAD) == []


READS = [
    ({"and": [{">": [{"var": "amount"}, 1]}, {"var": "customer.region"}]},
     {"amount", "customer.region"}),
    ({"missing": ["name", "stage"]}, {"name", "stage"}),
    ({"some": [{"var": "items"}, {">": [{"var": "amount"}, 5]}]}, {"items", "items.amount"}),
    ({"changed": "stage"}, {"stage"}),
    ({"var": [{"cat": ["na", "me"]}]}, {"*"}),
    ({"today": []}, set()),
]


@pytest.mark.parametrize(("rule", "reads"), READS)
def test_reads(rule: Any, reads: set[str]) -> None:
    assert compile_condition(rule, LEAD).reads == reads


def test_sql_problem_is_decided_at_compile_time() -> None:
    assert compile_condition({">": [{"var": "amount"}, 1]}, LEAD).sql_problem is None
    assert compile_condition({"<": [{"days_since": {"var": "close_date"}}, 3]},
                             LEAD).sql_problem is None
    assert "no SQL form" in compile_condition(
        {"some": [{"var": "items"}, {">": [{"var": "amount"}, 5]}]}, LEAD).sql_problem
    assert compile_condition({"var": [{"cat": ["na", "me"]}]}, LEAD).sql_problem is not None
    assert compile_condition({"in": ["vip", {"var": "tags"}]}, LEAD).sql_problem is not None
    assert compile_formula("DATEDIF(close_date, TODAY(), \"m\")", LEAD).sql_problem is not None
    related = {"related": {"entity": "follow_up", "via": "opportunity", "agg": "count"}}
    assert compile_condition({">": [related, 0]}, LEAD).sql_problem is None


def test_related_checks_entity_and_link() -> None:
    problems = check_condition(
        {"related": {"entity": "follow_ups", "via": "opportunity"}}, LEAD)
    assert messages(problems) == ["there is no entity 'follow_ups'"]
    problems = check_condition({"related": {"entity": "follow_up", "via": "kind"}}, LEAD)
    assert messages(problems) == ["'kind' on Follow-up is not a lookup to Lead"]
    problems = check_condition({"related": {"entity": "follow_up", "via": "opportunity",
                                            "where": {"==": [{"var": "knd"}, "call"]}}}, LEAD)
    assert messages(problems) == ["'knd' is not a field of Follow-up (did you mean kind?)"]


def test_formula_result_must_fit_the_field() -> None:
    assert check_formula("ROUND(amount * 2, 2)", LEAD, ValueType.NUMBER) == []
    assert check_formula("quantity * 2", LEAD, ValueType.NUMBER) == []
    assert check_formula("amount", LEAD, ValueType.TEXT) == []
    problems = check_formula('IF(amount > 1, "big", "small")', LEAD, ValueType.NUMBER)
    assert messages(problems) == [
        'IF(amount > 1, "big", "small") needs a number, not text']
    problems = check_formula("close_date + 1", LEAD, ValueType.BOOLEAN)
    assert messages(problems, "zh-CN") == ["close_date + 1 需要布尔值，而不是日期"]
