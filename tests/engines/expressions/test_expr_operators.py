"""Loom's extensions of JSON Logic: blanks, dates, the save, the user, related records."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from loom.engines.expressions import (
    Env,
    ExpressionError,
    RelatedQuery,
    compile_condition,
    jsonlogic_apply,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2025-03-01 01:30 UTC is 09:30 on 2025-03-01 in Shanghai
ENV = Env.at(datetime(2025, 3, 1, 1, 30, tzinfo=UTC), SHANGHAI,
             user={"id": 7, "email": "li@example.com", "roles": ["sales", "manager"],
                   "department": 3},
             prior={"status": "open", "amount": Decimal("10")},
             changed=frozenset({"status"}))


def run(rule: Any, data: Any = None, env: Env | None = ENV) -> Any:
    return compile_condition(rule).evaluate(data, env)


BLANKS = [
    # ordering comparisons with a blank are false (as in SQL), both ways round
    ({"<": [{"var": "x"}, 5]}, {}, False), ({">": [{"var": "x"}, 5]}, {}, False),
    ({"<=": [None, 0]}, None, False), ({">=": [0, None]}, None, False),
    ({"<": [1, {"var": "x"}, 5]}, {}, False),
    # a blank equals only a blank
    ({"==": [{"var": "x"}, None]}, {}, True), ({"!=": [{"var": "x"}, "a"]}, {}, True),
    ({"==": [{"var": "x"}, 0]}, {}, False),
    # arithmetic with a blank is blank
    ({"+": [{"var": "x"}, 1]}, {}, None), ({"*": [2, {"var": "x"}]}, {}, None),
    ({"-": [{"var": "x"}]}, {}, None), ({"/": [1, {"var": "x"}]}, {}, None),
    # min/max skip blanks
    ({"max": [1, None, 3]}, None, 3), ({"min": [None, None]}, None, None),
    ({"max": []}, None, None),
    # faults in a condition are blank, never an exception
    ({"/": [1, 0]}, None, None), ({"%": [1, 0]}, None, None), ({"+": ["abc", 1]}, None, None),
    ({"*": [[1, 2], 2]}, None, None),
    # is_blank / blank_value
    ({"is_blank": {"var": "x"}}, {"x": ""}, True), ({"is_blank": {"var": "x"}}, {"x": []}, True),
    ({"is_blank": {"var": "x"}}, {"x": {}}, True), ({"is_blank": {"var": "x"}}, {"x": 0}, False),
    ({"is_blank": {"var": "x"}}, {"x": False}, False),
    ({"blank_value": [{"var": "x"}, "n/a"]}, {}, "n/a"),
    ({"blank_value": [{"var": "x"}, "n/a"]}, {"x": "v"}, "v"),
    # substr and cat of a blank are empty text, never "null"
    ({"substr": [{"var": "x"}, 0, 2]}, {}, ""), ({"cat": ["a", {"var": "x"}, "b"]}, {}, "ab"),
]


@pytest.mark.parametrize(("rule", "data", "expected"), BLANKS)
def test_blank_semantics(rule: Any, data: Any, expected: Any) -> None:
    assert run(rule, data) == expected


DATES = [
    ({"today": []}, None, date(2025, 3, 1)),
    ({"now": []}, None, datetime(2025, 3, 1, 1, 30, tzinfo=UTC)),
    ({"days_since": "2025-02-01"}, None, 28), ({"days_until": "2025-03-11"}, None, 10),
    ({"days_since": {"var": "d"}}, {"d": date(2024, 3, 1)}, 365),
    # a datetime's day is read in the environment's time zone: 20:00 UTC on Feb 27 is
    # Feb 28 in Shanghai
    ({"days_since": {"var": "t"}}, {"t": datetime(2025, 2, 27, 20, 0, tzinfo=UTC)}, 1),
    ({"days_since": {"var": "d"}}, {}, None),
    ({"date_add": ["2025-01-31", 1, "months"]}, None, date(2025, 2, 28)),
    ({"date_add": ["2024-01-31", 1, "month"]}, None, date(2024, 2, 29)),
    ({"date_add": ["2025-02-28", 1, "months"]}, None, date(2025, 3, 31)),
    ({"date_add": ["2025-03-31", -1, "months"]}, None, date(2025, 2, 28)),
    ({"date_add": ["2024-02-29", 1, "years"]}, None, date(2025, 2, 28)),
    ({"date_add": ["2025-01-01", 2, "weeks"]}, None, date(2025, 1, 15)),
    ({"date_add": ["2025-01-01", -1]}, None, date(2024, 12, 31)),
    ({"date_add": [{"now": []}, -2, "hours"]}, None,
     datetime(2025, 2, 28, 23, 30, tzinfo=UTC)),
    ({"add_months": ["2025-01-15", 13]}, None, date(2026, 2, 15)),
    ({"date": "2025-08-12"}, None, date(2025, 8, 12)), ({"date": [2025, 8, 12]}, None,
                                                         date(2025, 8, 12)),
    ({"datedif": ["2024-01-31", "2024-03-01", "m"]}, None, 1),
    ({"year": "2025-08-12"}, None, 2025), ({"month": "2025-08-12"}, None, 8),
    ({"day": "2025-08-12"}, None, 12),
    # dates compare as dates, with ISO text read as a date
    ({"<": [{"var": "d"}, {"today": []}]}, {"d": date(2025, 2, 1)}, True),
    ({"==": [{"var": "d"}, "2025-02-01"]}, {"d": date(2025, 2, 1)}, True),
    ({"<": [{"var": "d"}, "2025-13-01"]}, {"d": date(2025, 2, 1)}, False),
    # a datetime against a date compares its local calendar date
    ({"==": [{"var": "t"}, "2025-02-28"]}, {"t": datetime(2025, 2, 27, 16, 0, tzinfo=UTC)}, True),
    ({"<": [{"var": "t"}, "2025-02-28"]}, {"t": datetime(2025, 2, 27, 15, 59, tzinfo=UTC)}, True),
    ({"<=": ["2025-02-01", {"var": "d"}, "2025-02-28"]}, {"d": "2025-02-14"}, True),
    # date arithmetic with + and -
    ({"+": [{"var": "d"}, 30]}, {"d": date(2025, 1, 1)}, date(2025, 1, 31)),
    ({"-": [{"var": "e"}, {"var": "d"}]}, {"d": date(2025, 1, 1), "e": date(2025, 3, 1)}, 59),
]


@pytest.mark.parametrize(("rule", "data", "expected"), DATES)
def test_dates(rule: Any, data: Any, expected: Any) -> None:
    assert run(rule, data) == expected


def test_clock_is_injected() -> None:
    later = Env.at(datetime(2030, 1, 1, tzinfo=UTC))
    assert run({"today": []}, None, later) == date(2030, 1, 1)
    assert run({"days_since": "2029-12-31"}, None, later) == 1
    # without an environment the real clock is read
    assert isinstance(jsonlogic_apply({"today": []}), date)


CRM = [
    ({"changed": "status"}, None, True), ({"changed": ["amount", "owner"]}, None, False),
    ({"changed": ["amount", "status"]}, None, True),
    ({"prior": "status"}, None, "open"), ({"prior": "missing"}, None, None),
    ({"and": [{"changed": "status"}, {"==": [{"prior": "status"}, "open"]},
              {"==": [{"var": "status"}, "won"]}]}, {"status": "won"}, True),
    ({"current_user": []}, None, 7), ({"current_user": "email"}, None, "li@example.com"),
    ({"==": [{"var": "owner"}, {"current_user": "id"}]}, {"owner": 7}, True),
    ({"has_role": "manager"}, None, True), ({"has_role": ["admin", "sales"]}, None, True),
    ({"has_role": "admin"}, None, False),
    ({"starts_with": [{"var": "code"}, "HT-"]}, {"code": "HT-2025"}, True),
    ({"starts_with": [{"var": "code"}, "ht-"]}, {"code": "HT-2025"}, False),
    ({"starts_with": [{"var": "code"}, "HT"]}, {}, False),
    ({"in": ["VIP", {"var": "tags"}]}, {"tags": ["new", "VIP"]}, True),
    ({"len": {"var": "name"}}, {"name": "李雷"}, 2), ({"len": {"var": "name"}}, {}, 0),
    ({"case": [{"var": "s"}, "a", 1, "b", 2, 0]}, {"s": "b"}, 2),
    ({"case": [{"var": "s"}, "a", 1, "b", 2, 0]}, {"s": "z"}, 0),
    ({"round": [2.5]}, None, 3), ({"round": [-2.5]}, None, -3),
    ({"round": [1.005, 2]}, None, Decimal("1.01")), ({"round": [1250, -2]}, None, 1300),
    ({"sum": [{"var": "items"}]}, {"items": [1, None, 2.5]}, Decimal("3.5")),
    ({"upper": "abc"}, None, "ABC"), ({"trim": "  a "}, None, "a"),
]


@pytest.mark.parametrize(("rule", "data", "expected"), CRM)
def test_crm_operators(rule: Any, data: Any, expected: Any) -> None:
    assert run(rule, data) == expected


def test_changed_and_prior_outside_a_save() -> None:
    plain = Env.at(datetime(2025, 1, 1, tzinfo=UTC))
    assert run({"changed": "status"}, None, plain) is False
    assert run({"prior": "status"}, None, plain) is None


def test_related_aggregates_ask_the_environment() -> None:
    asked: list[RelatedQuery] = []

    def related(query: RelatedQuery) -> Any:
        asked.append(query)
        return 3

    env = Env.at(datetime(2025, 1, 1, tzinfo=UTC), related=related)
    rule = {">=": [{"related": {"entity": "follow_up", "via": "opportunity", "agg": "count",
                                "where": {"==": [{"var": "kind"}, "call"]}}}, 2]}
    compiled = compile_condition(rule)
    assert compiled.evaluate({"id": 5}, env) is True
    query = asked[0]
    assert (query.entity, query.via, query.agg, query.record) == (
        "follow_up", "opportunity", "count", {"id": 5})
    assert query.where is not None and query.where.evaluate({"kind": "call"}) is True


def test_related_without_a_database_is_a_clear_error() -> None:
    rule = {"related": {"entity": "follow_up", "via": "opportunity"}}
    with pytest.raises(ExpressionError) as caught:
        compile_condition(rule).evaluate({"id": 1}, ENV)
    assert "database" in str(caught.value)


def test_bind_evaluates_many_records_with_one_environment() -> None:
    check = compile_condition({">": [{"days_since": {"var": "d"}}, 10]}).bind(ENV)
    assert [check({"d": "2025-01-01"}), check({"d": "2025-02-28"})] == [True, False]


def test_holds_applies_json_logic_truthiness() -> None:
    compiled = compile_condition({"var": "tags"})
    assert compiled.holds({"tags": ["a"]}) is True
    assert compiled.holds({"tags": []}) is False
