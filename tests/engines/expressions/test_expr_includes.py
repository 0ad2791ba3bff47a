"""``includes``: list fields (multiselect, JSON lists) holding a value — in Python, in
formulas, in the checker, and as SQL on SQLite and PostgreSQL with the same rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, select

from loom.engines.expressions import (
    Env,
    NotTranslatable,
    Scope,
    ValueType,
    check_condition,
    compile_condition,
    formula_apply,
    jsonlogic_apply,
)
from loom.platform.storage.database import Database

ENV = Env.at(datetime(2026, 11, 2, tzinfo=UTC), user={"id": 7, "email": "li@example.com"})
ME = [{"current_user": "id"}, {"current_user": "email"}]
metadata = MetaData()
teams = Table("expr_teams", metadata, Column("id", Integer, primary_key=True),
              Column("members", JSON))
ROWS: list[dict[str, Any]] = [
    {"id": 1, "members": [7, 8]},
    {"id": 2, "members": ["li@example.com"]},
    {"id": 3, "members": ["7x", 70, "wang@example.com"]},
    {"id": 4, "members": []},
    {"id": 5, "members": None},
    {"id": 6, "members": "li@example.com"},       # not a list: holds nothing
    {"id": 7, "members": [True, None, {"id": 7}, [7]]},  # no text or whole number item
    {"id": 8, "members": ["7"]},
]
SCOPE = Scope.of_types({"id": ValueType.INTEGER, "members": ValueType.LIST})


def test_a_list_includes_a_value_compared_as_text() -> None:
    assert jsonlogic_apply({"includes": [{"var": "m"}, 7]}, {"m": ["7", 8]}) is True
    assert jsonlogic_apply({"includes": [{"var": "m"}, "8"]}, {"m": [7, 8]}) is True
    assert jsonlogic_apply({"includes": [{"var": "m"}, [1, "b"]]}, {"m": ["a", "b"]}) is True
    assert jsonlogic_apply({"includes": [{"var": "m"}, [1, 2]]}, {"m": ["a", "b"]}) is False
    assert jsonlogic_apply({"includes": [{"var": "m"}, None]}, {"m": [None]}) is False
    assert jsonlogic_apply({"includes": [{"var": "m"}, "a"]}, {"m": "abc"}) is False
    assert jsonlogic_apply({"includes": [{"var": "m"}, 1]}, {"m": [True]}) is False
    assert formula_apply('INCLUDES(tags, "hot")', {"tags": ["key", "hot"]}) is True


def test_the_checker_knows_includes() -> None:
    assert check_condition({"includes": [{"var": "members"}, ME]}, SCOPE) == []
    problems = check_condition({"includes": [{"var": "membres"}, 1]}, SCOPE)
    assert problems and "membres" in str(problems[0].render("en")["message"])
    assert check_condition({"includes": [{"var": "members"}]}, SCOPE)


def python_ids(rule: Any) -> list[int]:
    compiled = compile_condition(rule, SCOPE)
    return [row["id"] for row in ROWS if compiled.holds(row, ENV)]


@pytest.mark.parametrize("rule", [
    {"includes": [{"var": "members"}, ME]},
    {"includes": [{"var": "members"}, 7]},
    {"includes": [{"var": "members"}, "wang@example.com"]},
    {"!": {"includes": [{"var": "members"}, {"current_user": "id"}]}},
    {"includes": [{"var": "members"}, None]},
])
async def test_sql_finds_the_rows_python_finds(empty_database: Database, rule: Any) -> None:
    async with empty_database.write() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(teams.insert(), ROWS)
    compiled = compile_condition(rule, SCOPE)
    async with empty_database.read() as conn:
        clause = compiled.to_sql(lambda path: teams.c[path], ENV, dialect=conn.dialect.name)
        found = (await conn.execute(select(teams.c.id).where(clause).order_by(teams.c.id)))
        assert list(found.scalars()) == python_ids(rule)
    assert python_ids({"includes": [{"var": "members"}, ME]}) == [1, 2, 8]


def test_the_value_looked_for_may_not_read_the_record() -> None:
    compiled = compile_condition({"includes": [{"var": "members"}, {"var": "id"}]}, SCOPE)
    with pytest.raises(NotTranslatable):
        compiled.to_sql(lambda path: teams.c[path], ENV, dialect="sqlite")
