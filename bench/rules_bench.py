"""The rule engine's cost, against baselines measured in the same run and database.

1. Creating records through the HTTP API on an entity with 20 active rules (mostly not
   matching, a few setting a field or a tag) against the same entity without rules — two
   apps in one database, the same bodies, interleaved. Target: overhead <= 30%.
2. One worker round (``run_timed_rules``) of a schedule rule whose condition matches 100
   records of a large table, against the same condition as one ``SELECT COUNT(*)``
   (``Compiled.to_sql``); the SQL statements of the round are counted and sorted.

    python -m bench rules

Settings (environment):
    LOOM_BENCH_DATABASE_URL  a PostgreSQL server (``postgresql://postgres@127.0.0.1/test``):
                             a scratch database is created on it and dropped; default SQLite
    LOOM_BENCH_CREATES       records created per app in (1), default 1000
    LOOM_BENCH_TABLE_ROWS    rows of the table in (2), default 1,000,000 on PostgreSQL,
                             100,000 on SQLite
    LOOM_BENCH_RULES         which parts to run: "create", "schedule" or both (default)
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Integer, String, Table, event, func, insert, literal, select, text, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.sql import ColumnElement, case

from bench.scratch import ADMIN, scratch_services
from loom.platform.api.app import create_app
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import column_resolver, environment, related_source
from loom.platform.rules.timed import run_timed_rules
from loom.platform.security.actors import system_actor
from loom.platform.security.tokens import issue_token
from loom.platform.services import Services
from loom.platform.storage.system_tables import rule_runs, users

DATABASE_URL = os.environ.get("LOOM_BENCH_DATABASE_URL", "")
CREATES = int(os.environ.get("LOOM_BENCH_CREATES", "1000"))
TABLE_ROWS = int(os.environ.get("LOOM_BENCH_TABLE_ROWS", "0")) or (
    1_000_000 if DATABASE_URL else 100_000)
PARTS = os.environ.get("LOOM_BENCH_RULES", "create,schedule").split(",")
WARMUP = 50
MATCHES = 100       # records the schedule rule's condition matches
ROUNDS = 3          # worker rounds, on three consecutive daily ticks
AS_OF = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai, after the 02:00 tick


# --- (1) an entity with 20 rules ----------------------------------------------------------

def _options(*values: str) -> dict[str, Any]:
    return {"type": "select", "options": [{"value": v} for v in values]}


LEAD = {"label": {"zh-CN": "线索", "en": "Lead"}, "fields": {
    "name": {"type": "text", "required": True},
    "company": {"type": "text"},
    "email": {"type": "email"},
    "phone": {"type": "phone"},
    "source": _options("web", "referral", "event", "ads", "partner"),
    "region": _options("east", "north", "south", "west", "overseas"),
    "industry": _options("software", "retail", "manufacturing", "finance", "education"),
    "status": _options("new", "working", "qualified", "converted", "lost"),
    "rating": _options("hot", "warm", "cold"),
    "amount": {"type": "currency"},
    "employees": {"type": "integer"},
    "score": {"type": "integer"},
    "grade": {"type": "text"},
    "tags": {"type": "multiselect", "options": [{"value": v} for v in (
        "inbound", "big_deal", "vip", "enterprise", "partner_lead", "education", "review")]},
    "owner": {"type": "user"},
    "next_follow_up": {"type": "date"},
    "description": {"type": "textarea"},
}}


def _var(name: str) -> dict[str, str]:
    return {"var": name}


def _eq(name: str, value: Any) -> dict[str, Any]:
    return {"==": [_var(name), value]}


def _rule(on: str, condition: Any, *actions: dict[str, Any],
          fields: list[str] | None = None) -> dict[str, Any]:
    trigger: dict[str, Any] = {"on": on, **({"fields": fields} if fields else {})}
    return {"entity": "lead", "trigger": trigger, "condition": condition,
            "actions": list(actions)}


def _set(name: str, value: Any) -> dict[str, Any]:
    return {"type": "set_field", "field": name, "value": value}


def _tag(*values: str) -> dict[str, Any]:
    return {"type": "tag", "add": list(values)}


# Three rules match often (a default grade on every record, web leads and big deals
# tagged); the other 17 read the record's own fields and rarely or never match.
RULES: dict[str, Any] = {
    "default_grade": _rule("create", {"is_blank": _var("grade")}, _set("grade", "C")),
    "web_inbound": _rule("field_change", _eq("source", "web"), _tag("inbound"),
                         fields=["source"]),
    "big_deal": _rule("create", {">=": [_var("amount"), 150000]}, _set("rating", "hot"),
                      _tag("big_deal")),
    "overseas_desk": _rule("create", _eq("region", "overseas"), _set("grade", "O")),
    "converted_import": _rule("create", _eq("status", "converted"), _tag("review")),
    "huge_deal": _rule("field_change", {">": [_var("amount"), 10_000_000]}, _tag("vip"),
                       fields=["amount"]),
    "enterprise": _rule("field_change", {">=": [_var("employees"), 10_000]},
                        _tag("enterprise"), fields=["employees"]),
    "partner_finance": _rule("create", {"and": [
        _eq("source", "partner"), _eq("industry", "finance"),
        {">": [_var("employees"), 4000]}]}, _tag("partner_lead")),
    "finance_top": _rule("create", {"and": [
        _eq("industry", "finance"), {">": [_var("amount"), 199_000]}]}, _set("grade", "A")),
    "lost_grade": _rule("field_change", _eq("status", "lost"), _set("grade", "L"),
                        fields=["status"]),
    "qualified_score": _rule("field_change", _eq("status", "qualified"), _set("score", 50),
                             fields=["status"]),
    "no_contact": _rule("create", {"and": [{"is_blank": _var("email")},
                                           {"is_blank": _var("phone")}]},
                        _set("rating", "cold")),
    "government": _rule("create", {"in": [".gov.cn", _var("email")]}, _tag("vip")),
    "overseas_event": _rule("field_change", {"and": [
        _eq("source", "event"), _eq("region", "overseas")]},
        _set("next_follow_up", {"date_add": [{"today": []}, 3]}), fields=["source"]),
    "big_school": _rule("create", {"and": [
        _eq("industry", "education"), {">": [_var("employees"), 4990]}]}, _tag("education")),
    "hot_scored": _rule("field_change", {"and": [
        _eq("rating", "hot"), {">": [_var("score"), 90]}]}, _set("grade", "A+"),
        fields=["rating"]),
    "stale_working": _rule("update", {"and": [
        _eq("status", "working"), {">": [{"days_since": _var("created_at")}, 30]}]},
        _tag("review")),
    "reopened": _rule("update", {"and": [{"changed": "status"},
                                         {"==": [{"prior": "status"}, "lost"]}]},
                      _set("grade", "R")),
    "amount_cut": _rule("update", {"<": [_var("amount"), {"prior": "amount"}]},
                        _tag("review")),
    "unowned_working": _rule("update", {"and": [{"is_blank": _var("owner")},
                                                _eq("status", "working")]},
                             _set("rating", "warm")),
}


def lead_app(rules: dict[str, Any]) -> dict[str, Any]:
    return {"app": {"label": {"zh-CN": "线索", "en": "Leads"}}, "entities": {"lead": LEAD},
            "rules": rules}


def lead_body(rng: random.Random, index: int) -> dict[str, Any]:
    return {
        "name": f"Lead {index}", "company": f"Company {rng.randint(1, 5000)}",
        "email": f"lead{index}@example.com", "phone": f"+86 21 5555 {index % 10000:04d}",
        "source": rng.choice(["web", "referral", "event", "ads", "partner"]),
        "region": rng.choice(["east", "north", "south", "west"]),
        "industry": rng.choice(["software", "retail", "manufacturing", "finance", "education"]),
        "status": "new", "amount": rng.randint(1000, 200_000),
        "employees": rng.randint(1, 5000), "description": "Asked for a demo on the website.",
    }


async def bench_creates(services: Services, kind: str) -> None:
    async with admin_client(services) as api:
        for slug, rules in (("plain", {}), ("ruled", RULES)):
            response = await api.post("/api/apps", json={"slug": slug,
                                                         "metadata": lead_app(rules)})
            assert response.status_code == 201, response.text
        rng = random.Random(7)
        spent: dict[str, list[float]] = {"plain": [], "ruled": []}
        sql = Counter[str]()
        async with counting(services) as statements:
            for index in range(WARMUP + CREATES):
                body = lead_body(rng, index)
                order = ("plain", "ruled") if index % 2 == 0 else ("ruled", "plain")
                for slug in order:
                    before, started = statements.total, time.perf_counter()
                    response = await api.post(f"/api/apps/{slug}/records/lead", json=body)
                    elapsed = time.perf_counter() - started
                    assert response.status_code == 201, response.text
                    if index >= WARMUP:
                        spent[slug].append(elapsed)
                        sql[slug] += statements.total - before
    async with services.database.read() as conn:
        firings = await conn.scalar(select(func.count()).select_from(rule_runs))
    print(f"create through the HTTP API on {kind}: {CREATES:,} records per app, "
          f"interleaved, after {WARMUP} warm-up each")
    for slug, label in (("plain", "entity without rules"),
                        ("ruled", f"entity with {len(RULES)} rules")):
        times = spent[slug]
        print(f"  {label:24} {len(times) / sum(times):7.0f} records/s"
              f"  mean {statistics.fmean(times) * 1000:6.2f} ms"
              f"  median {statistics.median(times) * 1000:6.2f} ms"
              f"  {sql[slug] / len(times):.2f} SQL statements/record")
    mean = sum(spent["ruled"]) / sum(spent["plain"]) - 1
    median = statistics.median(spent["ruled"]) / statistics.median(spent["plain"]) - 1
    print(f"  rule firings: {firings / (WARMUP + CREATES):.2f} per record (each traced)")
    print(f"  overhead of the rules: {mean:+.0%} by total time, {median:+.0%} by median"
          f" (target <= +30%)")


# --- (2) a schedule rule over a large table ------------------------------------------------

CUSTOMER_APP: dict[str, Any] = {
    "app": {"label": {"zh-CN": "客户", "en": "Customers"}},
    "entities": {"customer": {"label": {"zh-CN": "客户", "en": "Customer"}, "fields": {
        "name": {"type": "text", "required": True},
        "region": _options("east", "north", "south", "west"),
        "status": _options("active", "paused", "closed"),
        "amount": {"type": "currency"},
        "last_order_date": {"type": "date"},
        "health": _options("good", "at_risk"),
        "tags": {"type": "multiselect", "options": [{"value": "churn_risk"}]},
        "owner": {"type": "user"}}}},
    "rules": {"churn_risk": {
        "entity": "customer", "trigger": {"on": "schedule", "cron": "0 2 * * *"},
        "condition": {"and": [{"==": [{"var": "status"}, "active"]},
                              {">": [{"days_since": {"var": "last_order_date"}}, 180]}]},
        "actions": [{"type": "set_field", "field": "health", "value": "at_risk"},
                    {"type": "tag", "add": ["churn_risk"]}]}},
}
OLD, RECENT = date(2025, 1, 15), (date(2026, 10, 1), date(2026, 9, 12), date(2026, 8, 20))


def _series(dialect: str, rows: int) -> ColumnElement[int]:
    """The numbers 1..rows as a column to SELECT from."""
    if dialect == "postgresql":
        return func.generate_series(1, rows).column_valued("i")
    numbers = select(literal(1, Integer).label("i")).cte("numbers", recursive=True)
    numbers = numbers.union_all(select(numbers.c.i + 1).where(numbers.c.i < rows))
    return numbers.c.i


async def fill(services: Services, table: Table, rows: int) -> int:
    """``rows`` customers in one INSERT … SELECT; every ``rows // MATCHES``-th is active
    with its last order long ago (the rule matches those); as many others are old but
    closed. Returns how many should match."""
    step = max(rows // MATCHES, 1)
    dialect = services.database.engine.dialect.name
    i = _series(dialect, rows)
    now = datetime.now(UTC)

    def typed(name: str, value: Any) -> ColumnElement[Any]:
        return literal(value, table.c[name].type)

    values: dict[str, ColumnElement[Any]] = {
        "name": literal("Customer ", String) + sql_cast(i, String),
        "region": case(*[(i % 4 == n, name) for n, name in enumerate(
            ("east", "north", "south"))], else_="west"),
        "status": case((i % step == 0, "active"), (i % step == step // 2, "closed"),
                       (i % 7 == 3, "paused"), else_="active"),
        "amount": sql_cast((i % 1000) * 25, table.c.amount.type),
        "last_order_date": case((i % step == 0, typed("last_order_date", OLD)),
                                (i % step == step // 2, typed("last_order_date", OLD)),
                                (i % 3 == 0, typed("last_order_date", RECENT[0])),
                                (i % 3 == 1, typed("last_order_date", RECENT[1])),
                                else_=typed("last_order_date", RECENT[2])),
        "health": literal("good"),
        "version": literal(1),
        "created_at": typed("created_at", now),
        "updated_at": typed("updated_at", now),
    }
    async with services.database.write() as conn:
        await conn.execute(insert(table).from_select(list(values), select(*values.values())))
    async with services.database.write() as conn:
        await conn.execute(text("ANALYZE"))
    return rows // step


@dataclass
class Statements:
    """The SQL statements run while it is installed, with their time, by kind."""

    entity_table: str | None = None  # its keyset selections are counted apart
    selections: int = 0
    selection_seconds: float = 0.0
    others: Counter[str] = field(default_factory=Counter)
    other_seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.selections + sum(self.others.values())

    def kind(self, statement: str) -> str:
        sql = " ".join(statement.split())
        verb = sql.split(" ", 1)[0].upper()
        target = re.search(r"\b(?:FROM|INTO|UPDATE)\s+([\w.\"]+)", sql, re.IGNORECASE)
        name = " " + target.group(1).replace('"', "").split(".")[-1] if target else ""
        locked = " FOR UPDATE" if "FOR UPDATE" in sql.upper() else ""
        return f"{verb}{name}{locked}"

    def record(self, statement: str, seconds: float) -> None:
        kind = self.kind(statement)
        if kind == f"SELECT {self.entity_table}" and "rule_firings" in statement:
            self.selections += 1
            self.selection_seconds += seconds
        else:
            self.others[kind] += 1
            self.other_seconds += seconds


@asynccontextmanager
async def counting(services: Services,
                   entity_table: str | None = None) -> AsyncIterator[Statements]:
    engine = services.database.engine.sync_engine
    found = Statements(entity_table)

    def before(conn: Any, *_: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        found.record(statement, time.perf_counter() - conn.info.pop("bench_started"))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


async def best_of(times: int, run: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(times):
        started = time.perf_counter()
        result = await run()
        best = min(best, time.perf_counter() - started)
    return best, result


async def bench_schedule(services: Services, kind: str) -> None:
    async with admin_client(services) as api:
        response = await api.post("/api/apps", json={"slug": "big",
                                                     "metadata": CUSTOMER_APP})
        assert response.status_code == 201, response.text
    async with services.database.read() as conn:
        runtime = next(r for r in await services.apps.published_runtimes(conn)
                       if r.slug == "big")
    table = runtime.tables["customer"]
    started = time.perf_counter()
    expected = await fill(services, table, TABLE_ROWS)
    print(f"schedule rule over {TABLE_ROWS:,} {kind} records "
          f"(one INSERT … SELECT + ANALYZE: {time.perf_counter() - started:.1f} s), "
          f"its condition matches {expected}")
    best = (float("inf"), float("inf"))
    for day in range(ROUNDS):
        as_of = AS_OF + timedelta(days=day)
        baseline, matched = await best_of(3, lambda as_of=as_of: count_matches(
            services, runtime, as_of))
        assert matched == expected, (matched, expected)
        async with counting(services, table.name) as statements:
            started = time.perf_counter()
            fired = await run_timed_rules(services, as_of)
            seconds = time.perf_counter() - started
        assert fired == expected, (fired, expected)
        best = (min(best[0], seconds), min(best[1], baseline))
        others = sum(statements.others.values())
        print(f"  round {day + 1}: worker {seconds * 1000:8.1f} ms  baseline COUNT(*) "
              f"{baseline * 1000:7.1f} ms  ratio {seconds / baseline:5.1f}x  "
              f"({fired} fired)")
        print(f"    selection: {statements.selections} SELECT on the entity table, "
              f"{statements.selection_seconds * 1000:.1f} ms "
              f"({statements.selection_seconds / baseline:.2f}x the COUNT(*)); "
              f"everything else: {others} statements ({others / fired:.1f} per fired "
              f"record), {statements.other_seconds * 1000:.1f} ms")
        async with services.database.write() as conn:  # the next round has the same work
            await conn.execute(update(table).where(table.c.health == "at_risk")
                               .values(health="good", tags=None))
    print("  the last round's other statements:")
    for name, count in statements.others.most_common():
        print(f"    {count:6}  {name}")
    print(f"  best round {best[0] * 1000:.1f} ms, best COUNT(*) {best[1] * 1000:.1f} ms: "
          f"the round takes {best[0] / best[1]:.1f}x the single query")


async def count_matches(services: Services, runtime: AppRuntime, as_of: datetime) -> int:
    """The baseline: the rule's condition, translated by the compiler, in one COUNT(*)."""
    rule = runtime.rules.by_name["churn_risk"]
    assert rule.condition is not None
    env = environment(runtime, system_actor(runtime.workspace_id, "rule"), as_of)
    dialect = services.database.engine.dialect.name
    where = rule.condition.to_sql(column_resolver(runtime, rule.entity), env,
                                  dialect=dialect, related=related_source(runtime))
    table = runtime.tables[rule.entity]
    async with services.database.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table).where(where)))


# --- a scratch database, the services on it and an admin client ---------------------------



@asynccontextmanager
async def admin_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with services.database.write() as conn:
        admin_id = await conn.scalar(select(users.c.id).where(users.c.email == ADMIN))
        token = await issue_token(conn, admin_id, services.clock)
    transport = httpx.ASGITransport(app=create_app(services=services))
    async with httpx.AsyncClient(transport=transport, base_url="http://loom.bench",
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


async def run() -> None:
    for part, bench in (("create", bench_creates), ("schedule", bench_schedule)):
        if part in PARTS:
            async with scratch_services(DATABASE_URL) as (services, kind):
                await bench(services, kind)


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
