"""The pure part of demo data: a recipe and a seed decide every value — realistic Chinese
names, companies, mobiles, addresses, dates spread over months, skewed order counts."""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from loom.engines.demo import DemoPlan, Ref, make_plan, parse_recipe
from loom.engines.demo.vocabulary import vocabulary
from loom.metamodel.validation import parse_document
from loom.platform.apps.templates import TEMPLATES_DIR, load_template

AS_OF = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
CHINESE_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
TEAMS = [{"id": n, "code": f"{r}_team", "kind": "sales", "region": r}
         for n, r in enumerate(["east_china", "north_china", "south_china"], start=1)]


@pytest.fixture(scope="module")
def crm() -> tuple[Any, dict[str, Any]]:
    raw = json.loads((TEMPLATES_DIR / "crm" / "demo" / "recipe.json").read_text("utf-8"))
    return parse_document(load_template("crm")), raw


def plan_of(crm: tuple[Any, dict[str, Any]], seed: int, **kwargs: Any) -> DemoPlan:
    document, raw = crm
    return make_plan(parse_recipe(raw, document), document, seed=seed, as_of=AS_OF,
                     existing={"team": TEAMS}, **kwargs)


def records(plan: DemoPlan, step: str) -> list[dict[str, Any]]:
    return [r.values for s in plan.steps if s.step.name == step for r in s.records]


def canonical(plan: DemoPlan) -> str:
    return json.dumps([[s.step.name, [[r.values, r.moment] for r in s.records]]
                       for s in plan.steps] + [[u.__dict__ for u in plan.users]],
                      default=repr, ensure_ascii=False, sort_keys=True)


def test_the_same_seed_gives_the_same_plan_and_another_seed_another(crm: Any) -> None:
    first, again, other = plan_of(crm, 7), plan_of(crm, 7), plan_of(crm, 8)
    assert canonical(first) == canonical(again)
    assert canonical(first) != canonical(other)
    assert [c["name"] for c in records(first, "customers")] != \
        [c["name"] for c in records(other, "customers")]


def test_changing_one_step_leaves_the_others_alone(crm: Any) -> None:
    document, raw = crm
    changed = copy.deepcopy(raw)
    leads = next(s for s in changed["steps"] if s["name"] == "leads")
    leads["fields"]["notes"] = {"gen": "const", "value": "改过的备注"}
    plan, before = make_plan(parse_recipe(changed, document), document, seed=7, as_of=AS_OF,
                             existing={"team": TEAMS}), plan_of(crm, 7)
    assert records(plan, "customers") == records(before, "customers")
    assert {lead["notes"] for lead in records(plan, "leads")} == {"改过的备注"}


def test_people_and_companies_look_chinese(crm: Any) -> None:
    plan = plan_of(crm, 3)
    people = [c["name"] for c in records(plan, "contacts") + records(plan, "leads")]
    people += [u.name for u in plan.users]
    assert people and all(CHINESE_NAME.match(name) for name in people), people
    assert len(set(people)) > len(people) * 0.8  # many different names
    phones = [c["mobile"] for c in records(plan, "contacts")]
    assert all(CN_MOBILE.match(phone) for phone in phones)
    customers = records(plan, "customers")
    for customer in customers:
        assert customer["name"].endswith("公司"), customer["name"]
        city = customer["address"]["city"]
        assert city in customer["name"]  # the company's city is its address's city
        region = vocabulary().regions[customer["region"]]
        assert city in {c["city"] for c in region["cities"]}
    emails = [c["email"] for c in records(plan, "contacts")] + [u.email for u in plan.users]
    assert all(re.match(r"^[a-z.]+\d*@[a-z.]+\.example$", e) for e in emails), emails
    assert {c["region"] for c in customers} >= {"east_china", "north_china", "south_china"}


def test_users_have_managers_departments_and_roles(crm: Any) -> None:
    users = plan_of(crm, 3).users
    by_email = {u.email: u for u in users}
    reps = [u for u in users if u.group == "east_reps"]
    assert len(reps) == 3 and all(u.department == "华东销售部" for u in reps)
    manager = by_email[reps[0].manager]
    assert manager.group == "east_manager" and manager.roles == ("sales_manager",)
    assert by_email[manager.manager].group == "director"
    assert all(u.email.endswith("@demo.example") for u in users)
    larger = plan_of(crm, 3, size="medium").users
    assert len([u for u in larger if u.group == "east_reps"]) == 5


def test_history_spreads_over_months_and_respects_the_as_of_date(crm: Any) -> None:
    plan = plan_of(crm, 11)
    orders = records(plan, "orders")
    months = Counter((o["order_date"].year, o["order_date"].month) for o in orders)
    assert len(months) >= 10
    assert all(o["order_date"] <= AS_OF.date() for o in orders)
    for step in plan.steps:
        assert all(r.moment <= AS_OF for r in step.records)
    orders_step = next(s for s in plan.steps if s.step.name == "orders")
    assert all(r.moment.date() == r.values["order_date"] or
               abs((r.moment.date() - r.values["order_date"]).days) <= 1
               for r in orders_step.records)
    payments = next(s for s in plan.steps if s.step.name == "payments")
    contracts = {r.index: r.values for r in next(
        s for s in plan.steps if s.step.name == "contracts").records}
    paid: dict[int, Decimal] = {}
    for payment in payments.records:
        contract = contracts[payment.values["contract"].index]
        assert payment.values["paid_on"] >= contract["signed_on"]
        paid[payment.values["contract"].index] = paid.get(
            payment.values["contract"].index, Decimal(0)) + payment.values["amount"]
    for index, total in paid.items():  # payments never exceed their contract's amount
        assert total <= contracts[index]["amount"]
    assert any(total == contracts[i]["amount"] for i, total in paid.items())


def test_customers_differ_in_recency_frequency_and_money(crm: Any) -> None:
    plan = plan_of(crm, 5)
    per_customer: dict[int, list[dict[str, Any]]] = {}
    for order in records(plan, "orders"):
        per_customer.setdefault(order["customer"].index, []).append(order)
    frequency = [len(orders) for orders in per_customer.values()]
    assert max(frequency) >= 3 * (sum(frequency) / len(frequency)) / 2  # skewed
    assert len(set(frequency)) >= 5
    recency = [(AS_OF.date() - max(o["order_date"] for o in orders)).days
               for orders in per_customer.values()]
    money = [sum(o["amount"] for o in orders) for orders in per_customer.values()]
    tiers = Counter(_tier(r, f, m, recency, frequency, money)
                    for r, f, m in zip(recency, frequency, money, strict=True))
    assert len(tiers) >= 5, tiers


def _tier(r: int, f: int, m: Decimal, rs: list[int], fs: list[int], ms: list[Any]) -> str:
    """The 8-tier model: above or below the mean per dimension (recent = fewer days)."""
    return "".join(["R" if r <= sum(rs) / len(rs) else "r",
                    "F" if f >= sum(fs) / len(fs) else "f",
                    "M" if m >= sum(ms) / len(ms) else "m"])


def test_references_point_backwards_and_children_follow_their_parent(crm: Any) -> None:
    plan = plan_of(crm, 2)
    made = {s.step.name: i for i, s in enumerate(plan.steps)}
    for position, step in enumerate(plan.steps):
        for record in step.records:
            for value in record.values.values():
                if isinstance(value, Ref):
                    assert made[value.step] < position
    opportunities = records(plan, "opportunities")
    customers = records(plan, "customers")
    for opportunity in opportunities:
        customer = customers[opportunity["customer"].index]
        assert opportunity["owner"] == customer["owner"]
        assert opportunity["name"].startswith(customer["name"])
        if opportunity["contact"] is not None:
            contact = records(plan, "contacts")[opportunity["contact"].index]
            assert contact["customer"] == opportunity["customer"]
        assert (opportunity["lost_reason"] is not None) == (opportunity["stage"] == "lost")
    teams = records(plan, "sales_teams")
    assert len(teams) == 3 and all(t["manager"] and t["members"] for t in teams)


def test_dates_before_as_of_unless_future_is_allowed(crm: Any) -> None:
    plan = plan_of(crm, 9)
    closes = [o["expected_close_date"] for o in records(plan, "opportunities")]
    assert any(d > AS_OF.date() for d in closes)  # the pipeline ahead
    assert all(isinstance(d, date) for d in closes)


def test_children_of_stored_records_point_at_their_ids(crm: Any) -> None:
    """Monthly targets per seeded team: each team's id, one per month back from as-of."""
    targets = records(plan_of(crm, 4), "targets")
    assert len(targets) == 36
    assert Counter(t["team"] for t in targets) == {1: 12, 2: 12, 3: 12}
    months = sorted({t["month"] for t in targets})
    assert months[0] == date(2025, 12, 1) and months[-1] == date(2026, 11, 1)
    assert len(months) == 12
