"""Demo data written through the write pipeline, on both databases: a living CRM from one
request — valid records, rules that fired, history in the past, people who can sign in —
the same data from the same seed, and refusals that say what is wrong."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from demo_kit import AS_OF
from fixture_kit import finished, problem_of

CHINESE_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
ENTITIES = ["team", "sales_target", "product", "customer", "contact", "lead", "opportunity",
            "quote", "quote_item", "contract", "payment", "order", "follow_up", "ticket",
            "visit"]


async def all_records(api: httpx.AsyncClient, app: str, entity: str) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        params = {"limit": "1000", "sort": "id", **({"cursor": cursor} if cursor else {})}
        page = await api.get(f"/api/apps/{app}/records/{entity}", params=params)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json().get("next_cursor")
        if not cursor:
            return items


async def create_with_demo(api: httpx.AsyncClient, slug: str, seed: int = 5) -> Any:
    """The app at once; its demo data written in the background, followed to the end."""
    created = await api.post("/api/apps", json={
        "slug": slug, "template": "crm", "demo_data": True, "demo_seed": seed,
        "demo_as_of": AS_OF})
    assert created.status_code == 201, created.text
    operation = created.json()["demo"]["operation"]
    assert operation["kind"] == "demo_load" and operation["app"] == slug
    assert operation["status"] in ("queued", "running")
    done = await finished(api, operation)
    assert done["status"] == "succeeded", done
    assert done["progress"]["done"] == done["progress"]["total"] > 0
    return done["result"]


async def test_a_living_crm_from_one_request(api: httpx.AsyncClient) -> None:
    """The real template and its default (small) recipe."""
    demo = await create_with_demo(api, "crm")
    assert demo["size"] == "small" and demo["records"]["customer"] == 40
    customers = await all_records(api, "crm", "customer")
    assert len(customers) == 40
    assert all(c["name"].endswith("公司") and CN_MOBILE.match(c["phone"]) for c in customers)
    assert {c["region"] for c in customers} >= {"east_china", "north_china", "south_china"}
    contacts = await all_records(api, "crm", "contact")
    assert all(CHINESE_NAME.match(c["name"]) for c in contacts)

    # rules fired: signed contracts made their customers formal, items priced the quotes,
    # leads were routed to their region's team
    assert any(c["tag"] == "formal" for c in customers)
    quotes = await all_records(api, "crm", "quote")
    assert quotes and all(Decimal(str(q["total"])) > 0 for q in quotes)
    leads = await all_records(api, "crm", "lead")
    assert any(lead["team"] for lead in leads if lead["region"] == "east_china")
    contracts = await all_records(api, "crm", "contract")
    for contract in contracts:
        assert Decimal(str(contract["received_amount"] or 0)) <= Decimal(str(contract["amount"]))
    assert any(c["status"] == "paid" for c in contracts)  # fully paid → paid (a rule)
    await _deals_follow_the_sop(api, contracts)
    pools = {t["id"]: t["code"] for t in await all_records(api, "crm", "team")}
    assert {pools[lead["team"]] for lead in leads if lead["region"] == "central_china"} == {
        "company_pool"}  # a region without a team of its own

    # history: orders were created on their order date, spread over the year before as-of
    orders = await all_records(api, "crm", "order")
    months = Counter(o["order_date"][:7] for o in orders)
    assert len(months) >= 10 and max(months) <= "2026-11"
    for order in orders:
        created = datetime.fromisoformat(order["created_at"])
        assert abs((created.date() - date.fromisoformat(order["order_date"])).days) <= 1
    await _rfm_spread(customers, orders)
    ran = await api.post("/api/apps/crm/jobs/rfm/run", json={"as_of": AS_OF[:10]})
    assert ran.status_code == 200, ran.text
    tiers = Counter(c["rfm_tier"] for c in await all_records(api, "crm", "customer"))
    assert len(set(tiers) - {None}) >= 5, tiers  # the job sorts them into several tiers

    # the demo people sign in and see what their role lets them see
    rep = next(u for u in demo["users"] if u["roles"] == ["sales_rep"])
    token = await api.post("/api/auth/token", json={"email": rep["email"],
                                                    "password": demo["password"]})
    assert token.status_code == 200, token.text
    as_rep = {"Authorization": f"Bearer {token.json()['access_token']}"}
    mine = await api.get("/api/apps/crm/records/customer", headers=as_rep,
                         params={"limit": "1000"})
    assert mine.status_code == 200
    own = [c for c in customers if c["owner"] == mine.json()["items"][0]["owner"]] \
        if mine.json()["items"] else []
    assert 0 < len(mine.json()["items"]) == len(own) < len(customers)
    roles = (await api.get("/api/apps/crm/roles/sales_manager")).json()
    assert len(roles["members"]) == 3


async def _deals_follow_the_sop(api: httpx.AsyncClient,
                                contracts: list[dict[str, Any]]) -> None:
    """Every stage has deals, each with what the stages it passed ask for; a won deal's
    amount is its signed contracts' and it was won on the day its contract was paid."""
    deals = await all_records(api, "crm", "opportunity")
    stages = Counter(d["stage"] for d in deals)
    assert set(stages) == {"initial_contact", "needs_analysis", "demo", "quote",
                           "contract_approval", "won", "lost"}, stages
    passed = {"demo": 2, "quote": 3, "contract_approval": 4, "won": 5}
    for deal in deals:
        assert deal["contact"] and deal["source"], deal
        if passed.get(deal["stage"], 0) >= 2:
            assert deal["budget"] and deal["decision_chain"] and deal["pain_points"], deal
        if passed.get(deal["stage"], 0) >= 3:
            assert deal["demo_date"] and deal["demo_attendees"], deal
        if deal["stage"] == "lost":
            assert deal["lost_reason"], deal
    paid = {c["opportunity"]: c for c in contracts if c["status"] == "paid"}
    for deal in (d for d in deals if d["stage"] == "won"):
        assert Decimal(str(deal["amount"])) == Decimal(str(deal["signed_amount"])) > 0
        assert deal["closed_on"] == paid[deal["id"]]["paid_on"]


async def _rfm_spread(customers: list[dict[str, Any]], orders: list[dict[str, Any]]) -> None:
    """Customers fall in several of the eight RFM tiers (above/below the mean per
    dimension), as the ``rfm`` job would place them."""
    by_customer: dict[int, list[dict[str, Any]]] = {}
    for order in orders:
        by_customer.setdefault(order["customer"], []).append(order)
    as_of = date.fromisoformat(AS_OF[:10])
    r = {c: (as_of - max(date.fromisoformat(o["order_date"]) for o in os)).days
         for c, os in by_customer.items()}
    f = {c: len(os) for c, os in by_customer.items()}
    m = {c: sum(Decimal(str(o["amount"])) for o in os) for c, os in by_customer.items()}
    mean = {name: sum(d.values()) / len(d) for name, d in (("r", r), ("f", f), ("m", m))}
    tiers = Counter((r[c] <= mean["r"], f[c] >= mean["f"], m[c] >= mean["m"]) for c in r)
    assert len(tiers) >= 5, tiers
    assert len(set(f.values())) >= 5
    assert len(by_customer) > len(customers) * 0.7  # most customers have ordered


async def test_the_same_seed_gives_the_same_records(api: httpx.AsyncClient,
                                                    shelf: Path) -> None:
    first, again = await create_with_demo(api, "first", 3), await create_with_demo(api,
                                                                                   "again", 3)
    other = await create_with_demo(api, "other", 4)
    first.pop("seconds"), again.pop("seconds")
    assert first == again  # the same people (found again), the same counts
    for entity in ENTITIES:
        mine, theirs = (await all_records(api, "first", entity),
                        await all_records(api, "again", entity))
        if entity == "team":  # the template's seed, planted at the real time of each clone
            for row in mine + theirs:
                row.pop("created_at")
        assert mine == theirs, entity
    names = [c["name"] for c in await all_records(api, "first", "customer")]
    assert names != [c["name"] for c in await all_records(api, "other", "customer")]
    assert other["users"] != first["users"]


async def test_an_existing_app_gets_demo_data_once(api: httpx.AsyncClient,
                                                   shelf: Path) -> None:
    api.headers["Accept-Language"] = "en"
    assert (await api.post("/api/apps", json={"slug": "crm", "template": "crm"})
            ).status_code == 201
    loaded = await api.post("/api/apps/crm/demo", json={"seed": 2, "as_of": AS_OF})
    assert loaded.status_code == 202, loaded.text
    assert loaded.headers["location"] == loaded.json()["url"]
    done = await finished(api, loaded.json())
    assert done["status"] == "succeeded" and done["result"]["records"]["customer"] == 6
    assert done["params"] == {"seed": 2, "size": "small", "as_of": "2026-11-30T02:00:00+00:00",
                              "force": False}
    # refused at once, nothing started
    again = problem_of(await api.post("/api/apps/crm/demo", json={"seed": 2}), 409)
    assert "already has 72 Sales target record(s)" in again["detail"]
    # forced, the recipe's unique product codes clash: the load stops there, saying why and
    # what it had written before
    forced = await api.post("/api/apps/crm/demo", json={"seed": 2, "force": True})
    failed = await finished(api, forced.json())
    assert failed["status"] == "failed", failed
    assert failed["error"]["status"] == 422
    assert failed["error"]["errors"][0]["field"].startswith("products[0].code")
    assert "already used by another record" in failed["error"]["errors"][0]["message"]
    # the result counts what was committed: the transaction that met the clash is undone,
    # and where the one before it ended depends on the machine's pace
    kept = failed["result"]["records"]
    assert 0 <= kept.get("sales_target", 0) <= 72 and kept.get("product", 0) == 0
    assert len(await all_records(api, "crm", "sales_target")) == 72 + kept.get(
        "sales_target", 0)
    assert len(await all_records(api, "crm", "product")) == done["result"]["records"][
        "product"]
    assert len(await all_records(api, "crm", "customer")) == 6  # the later steps never ran


async def test_a_broken_recipe_is_refused_and_nothing_is_created(
        api: httpx.AsyncClient, shelf: Path) -> None:
    (shelf / "demo" / "recipe.json").write_text(
        '{"steps": [{"name": "x", "entity": "customer", "count": 1, '
        '"fields": {"name": {"gen": "number"}, "fax": {"gen": "mobile"}}}]}', encoding="utf-8")
    api.headers["Accept-Language"] = "zh-CN"
    refused = await api.post("/api/apps", json={"slug": "crm", "template": "crm",
                                                "demo_data": True})
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [
        {"field": "steps[0].fields.name.gen",
         "message": "生成器“number”不适用于类型为“text”的字段（适用于：currency, decimal, "
                    "integer, percent, rating）"},
        {"field": "steps[0].fields.fax", "message": "实体“customer”没有字段“fax”"}]
    assert (await api.get("/api/apps/crm")).status_code == 404


async def test_demo_data_needs_a_template(api: httpx.AsyncClient) -> None:
    api.headers["Accept-Language"] = "en"
    refused = await api.post("/api/apps", json={"slug": "bare", "demo_data": True})
    assert refused.status_code == 400
    assert "no demo data recipe" in refused.json()["detail"]
