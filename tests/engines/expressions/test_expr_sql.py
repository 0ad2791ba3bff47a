"""Conditions as SQL on SQLite and PostgreSQL: the same rows as Python, blanks included."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from expr_tables import (
    DEAL_SCOPE,
    calls,
    deals,
    metadata,
    python_ids,
    related,
    reset,
    resolve,
    sql_ids,
)
from sqlalchemy import select

from loom.engines.expressions import (
    Env,
    NotTranslatable,
    compile_condition,
    compile_formula,
)
from loom.platform.storage.database import Database

ENV = Env.at(datetime(2025, 3, 1, 2, 0, tzinfo=UTC), ZoneInfo("Asia/Shanghai"),
             user={"id": 5, "roles": ["sales"]})
ROWS = [
    {"id": 1, "i": 5, "d": Decimal("0.10"), "s": "apple", "b": True, "day": date(2025, 1, 31),
     "ts": datetime(2025, 1, 1, 17, 0, tzinfo=UTC)},
    {"id": 2, "i": None, "d": Decimal("0.20"), "s": "Banana", "b": False,
     "day": date(2025, 2, 28), "ts": datetime(2025, 1, 1, 15, 0, tzinfo=UTC)},
    {"id": 3, "i": -3},
    {"id": 4, "i": 0, "d": Decimal("1.25"), "s": "", "b": True, "day": date(2024, 2, 29),
     "ts": datetime(2024, 12, 31, 16, 0, tzinfo=UTC)},
    {"id": 5, "i": 12, "d": Decimal("-2.50"), "s": "100%_x", "b": None,
     "day": date(2025, 3, 1), "ts": datetime(2025, 2, 28, 16, 0, tzinfo=UTC)},
]
CALLS = [
    {"id": 1, "deal": 1, "kind": "call", "minutes": 10, "day": date(2025, 2, 27)},
    {"id": 2, "deal": 1, "kind": "visit", "minutes": 60, "day": date(2025, 1, 2)},
    {"id": 3, "deal": 1, "kind": "call", "minutes": 5, "day": date(2025, 2, 28)},
    {"id": 4, "deal": 2, "kind": "call", "minutes": 15, "day": date(2024, 1, 1)},
]
CONDITIONS: list[Any] = [
    {"==": [{"+": [{"var": "d"}, 0.2]}, 0.3]}, {"==": [{"*": [{"var": "d"}, 3]}, 0.3]},
    {">": [{"-": [{"var": "d"}, {"var": "i"}]}, -5]},
    {"<": [{"var": "i"}, 3]}, {"!": {"<": [{"var": "i"}, 3]}}, {"==": [{"var": "i"}, None]},
    {"!=": [{"var": "i"}, 0]}, {"===": [{"var": "i"}, 5]}, {"!==": [{"var": "i"}, "5"]},
    {"==": [{"var": "i"}, "12"]},
    {"in": ["an", {"var": "s"}]}, {"in": ["%_", {"var": "s"}]}, {"in": ["A", {"var": "s"}]},
    {"in": [{"var": "s"}, ["apple", "Banana", None]]}, {"in": [{"var": "i"}, [0, 5, "12"]]},
    {"!=": [{"var": "s"}, "apple"]}, {">": [{"var": "s"}, "B"]}, {"<": [{"var": "s"}, "a"]},
    {"var": "b"}, {"var": "s"}, {"var": "i"}, {"var": "d"}, {"var": "day"}, {"!": {"var": "b"}},
    {"==": [{"var": "b"}, False]}, {"!=": [{"var": "b"}, True]},
    {"==": [{"var": "i"}, {"current_user": "id"}]}, {"has_role": "sales"},
    {"<=": [1, {"var": "i"}, 5]}, {"<": [-5, {"var": "d"}, 1]},
    {">=": [{"days_since": {"var": "day"}}, 30]},
    # bounds on the column itself (an index can serve them), either way round
    {">": [{"days_since": {"var": "day"}}, 29]}, {"<": [{"days_since": {"var": "day"}}, 1]},
    {"<=": [{"days_since": {"var": "day"}}, 0]}, {"<": [365, {"days_since": {"var": "day"}}]},
    {">=": [0, {"days_since": {"var": "day"}}]}, {">": [{"days_since": {"var": "day"}}, 2.5]},
    {"<": [{"days_until": {"var": "day"}}, 0]},
    {"==": [{"days_since": {"var": "ts"}}, 59]},
    {"==": [{"date_add": [{"var": "day"}, 1, "months"]}, "2025-03-31"]},
    {"==": [{"date_add": [{"var": "day"}, 1, "months"]}, "2025-02-28"]},
    {"==": [{"date_add": [{"var": "day"}, -1, "years"]}, "2024-02-29"]},
    {">": [{"date_add": [{"var": "day"}, 3]}, {"today": []}]},
    {"==": [{"+": [{"var": "day"}, 1]}, "2025-03-01"]},
    {"==": [{"var": "ts"}, "2025-01-02"]}, {"<": [{"var": "ts"}, {"today": []}]},
    {">=": [{"var": "ts"}, "2025-01-01"]}, {">": [{"var": "ts"}, "2025-01-01"]},
    {"<=": [{"var": "ts"}, "2025-01-01"]},
    {">": [{"var": "ts"}, {"date_add": [{"now": []}, -7, "days"]}]},
    {"==": [{"var": "ts"}, {"var": "day"}]},
    {"is_blank": {"var": "s"}}, {"missing": ["s", "i"]}, {"missing_some": [2, ["s", "i", "d"]]},
    {"starts_with": [{"var": "s"}, "ap"]}, {"starts_with": [{"var": "s"}, "100%"]},
    {"==": [{"round": [{"var": "d"}, 1]}, 1.3]}, {"==": [{"round": [{"var": "d"}, 0]}, -3]},
    {">": [{"/": [{"var": "i"}, 2]}, 2]}, {"==": [{"/": [{"var": "i"}, 0]}, None]},
    {"if": [{"var": "b"}, {">": [{"var": "i"}, 0]}, {"is_blank": {"var": "i"}}]},
    {"==": [{"if": [{"var": "b"}, "yes", "no"]}, "yes"]},
    {"==": [{"cat": [{"var": "s"}, "!"]}, "!"]}, {">": [{"len": {"var": "s"}}, 5]},
    {"==": [{"blank_value": [{"var": "s"}, "none"]}, "none"]},
    {"and": [{"var": "b"}, {"or": [{">": [{"var": "i"}, 1]}, {"<": [{"var": "d"}, 0]}]}]},
    {"or": [{"missing": ["i"]}, {"!!": {"var": "s"}}]},
    {"==": [{"case": [{"var": "s"}, "apple", 1, "Banana", 2, 0]}, 2]},
    {">": [{"related": {"entity": "call", "via": "deal", "agg": "count"}}, 1]},
    {"==": [{"related": {"entity": "call", "via": "deal", "agg": "count",
                         "where": {"==": [{"var": "kind"}, "call"]}}}, 0]},
    {">=": [{"related": {"entity": "call", "via": "deal", "agg": "sum", "field": "minutes",
                         "where": {">=": [{"var": "day"},
                                          {"date_add": [{"today": []}, -7]}]}}}, 15]},
    {"related": {"entity": "call", "via": "deal", "agg": "exists",
                 "where": {"==": [{"var": "kind"}, "visit"]}}},
]


@pytest.fixture
async def database(empty_database: Database) -> Database:
    async with empty_database.write() as conn:
        await conn.run_sync(metadata.create_all)
        await reset(conn, ROWS, CALLS)
    return empty_database


def related_counts(query: Any) -> Any:
    mine = [call for call in CALLS if call["deal"] == query.record["id"]]
    if query.where is not None:
        mine = [call for call in mine if query.where.holds(call, ENV)]
    if query.agg == "count":
        return len(mine)
    if query.agg == "exists":
        return bool(mine)
    return sum(call[query.field] for call in mine)


async def test_sql_selects_the_rows_python_selects(database: Database) -> None:
    env = Env.at(ENV.now, ENV.timezone, user=ENV.user, related=related_counts)
    failures = []
    async with database.read() as conn:
        for rule in CONDITIONS:
            compiled = compile_condition(rule, DEAL_SCOPE)
            assert compiled.sql_problem is None, (rule, compiled.sql_problem)
            expected = python_ids(compiled, ROWS, env)
            got = await sql_ids(conn, compiled, env)
            if got != expected:
                failures.append((rule, expected, got))
    assert failures == []


async def test_values_agree_too(database: Database) -> None:
    formulas = ["d * 3 + 0.1", "i - 1", "DAYS_SINCE(day)", 'ADDMONTHS(day, 1)',
                "ROUND(d, 1)", "BLANKVALUE(s, \"-\") & \"!\"", "LEN(s)"]
    async with database.read() as conn:
        for text in formulas:
            compiled = compile_formula(text, DEAL_SCOPE)
            value = compiled.to_sql_value(resolve, ENV)
            rows = (await conn.execute(select(deals.c.id, value).order_by(deals.c.id))).all()
            for row_id, got in rows:
                record = next(row for row in ROWS if row["id"] == row_id)
                expected = compiled.evaluate(record, ENV)
                assert got == expected, (text, row_id, got, expected)


async def test_days_and_dates_across_a_dst_zone(database: Database) -> None:
    new_york = Env.at(datetime(2025, 3, 10, 12, 0, tzinfo=UTC), ZoneInfo("America/New_York"))
    rule = {"==": [{"var": "ts"}, "2025-01-01"]}
    compiled = compile_condition(rule, DEAL_SCOPE)
    async with database.read() as conn:
        # a fixed date becomes a range of instants: exact in any zone, on both databases
        assert await sql_ids(conn, compiled, new_york) == python_ids(compiled, ROWS, new_york)
        by_day = compile_condition({"<": [{"days_since": {"var": "ts"}}, 100]}, DEAL_SCOPE)
        if conn.dialect.name == "sqlite":
            with pytest.raises(NotTranslatable, match="daylight saving"):
                await sql_ids(conn, by_day, new_york)
        else:
            assert await sql_ids(conn, by_day, new_york) == python_ids(by_day, ROWS, new_york)


UNTRANSLATABLE = [
    ({"some": [{"var": "s"}, True]}, "no SQL form"),
    ({"var": [{"cat": ["s", ""]}]}, "computed field name"),
    ({"==": [{"var": "s"}, 5]}, "compares text with integer"),
    ({"<": [{"var": "b"}, 1]}, "compares boolean with integer"),
    ({"==": [{"cat": [{"var": "s"}, {"var": "i"}]}, "x"]}, "'cat' of non-text"),
    ({"==": [{"%": [{"var": "i"}, 2]}, 0]}, "'%' has no SQL form"),
    ({"==": [{"var": ["i", 0]}, 0]}, "default has no SQL form"),
]


@pytest.mark.parametrize(("rule", "reason"), UNTRANSLATABLE)
def test_what_has_no_sql_form_says_so_at_compile_time(rule: Any, reason: str) -> None:
    compiled = compile_condition(rule, DEAL_SCOPE)
    assert compiled.sql_problem is not None and reason in compiled.sql_problem
    with pytest.raises(NotTranslatable):
        compiled.to_sql(resolve, ENV)


def test_the_resolver_decides_which_paths_reach_sql() -> None:
    compiled = compile_condition({"==": [{"var": "customer.region"}, "East"]})
    assert compiled.sql_problem is None
    with pytest.raises(NotTranslatable, match=r"no column customer\.region"):
        compiled.to_sql(resolve, ENV)


def test_related_needs_a_source_of_related_tables() -> None:
    compiled = compile_condition({"related": {"entity": "call", "via": "deal"}})
    with pytest.raises(NotTranslatable, match="related records"):
        compiled.to_sql(resolve, ENV)
    assert compiled.to_sql(resolve, ENV, related=related) is not None
    assert calls.c.deal is not None
