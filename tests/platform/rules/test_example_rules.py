"""The rule engine's five example rules, end to end through the public API and the worker on
both databases: East China leads into the East China pool; an opportunity left in initial
contact for three days without a follow-up alerts the owner's manager; a quote marked
sent drafts a contract and tells legal; a signed contract makes the customer formal and
sends the welcome email; no order for three months raises a churn warning task. Also:
round robin under concurrent creates, a rule published while the app runs, and the
"would have fired" preview."""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta
from typing import Any

import httpx
from rules_api import RECORDS, patch, post, user
from rules_app import SALES
from sqlalchemy import insert, select

from loom.platform.services import Services
from loom.platform.storage.system_tables import (
    apps,
    notifications,
    outbox,
    role_members,
    tasks,
)
from loom.platform.worker import Worker

ENTITIES = {
    "opportunity": {"label": {"zh-CN": "商机", "en": "Opportunity"}, "fields": {
        "name": {"type": "text"}, "owner": {"type": "user"},
        "customer": {"type": "lookup", "ref": "customer"},
        "stage": {"type": "select", "options": [{"value": "initial_contact"},
                                                {"value": "needs_analysis"}]},
        "stage_changed_at": {"type": "datetime"}}},
    "follow_up": {"label": {"zh-CN": "跟进记录", "en": "Follow-up"}, "fields": {
        "opportunity": {"type": "lookup", "ref": "opportunity"}, "notes": {"type": "text"}}},
    "quote": {"label": {"zh-CN": "报价", "en": "Quote"}, "fields": {
        "opportunity": {"type": "lookup", "ref": "opportunity"}, "total": {"type": "currency"},
        "status": {"type": "select", "options": [{"value": "draft"}, {"value": "sent"}]}}},
}

RULES: dict[str, Any] = {
    "east_pool": {
        "entity": "lead", "trigger": {"on": "create"},
        "condition": {"==": [{"var": "region"}, "east_china"]},
        "actions": [{"type": "set_field", "field": "team", "value": "east_china_team",
                     "match": "code"},
                    {"type": "assign", "strategy": "pool"}]},
    "stage_clock": {
        "entity": "opportunity", "trigger": {"on": "field_change", "fields": ["stage"]},
        "actions": [{"type": "set_field", "field": "stage_changed_at", "value": {"now": []}}]},
    "stale_opportunity": {
        "entity": "opportunity",
        "trigger": {"on": "date_offset", "field": "stage_changed_at", "offset": "P3D"},
        "condition": {"and": [
            {"==": [{"var": "stage"}, "initial_contact"]},
            {"==": [{"related": {"entity": "follow_up", "via": "opportunity"}}, 0]}]},
        "actions": [{"type": "notify", "to": [{"kind": "manager", "of": "owner"}],
                     "title": {"zh-CN": "商机停滞：{{ name }}", "en": "Stale: {{ name }}"}}]},
    "quote_sent": {
        "entity": "quote", "trigger": {"on": "field_change", "fields": ["status"]},
        "condition": {"==": [{"var": "status"}, "sent"]},
        "actions": [
            {"type": "create_record", "entity": "contract", "values": {
                "customer": {"var": "opportunity.customer"}, "amount": {"var": "total"},
                "status": "draft"}},
            {"type": "notify", "to": [{"kind": "role", "role": "legal"}],
             "title": {"zh-CN": "请审核合同草稿（报价 {{ total }}）", "en": "Draft contract"}}]},
    "signed": {
        "entity": "contract", "trigger": {"on": "field_change", "fields": ["status"]},
        "condition": {"==": [{"var": "status"}, "signed"]},
        "actions": [
            {"type": "update_related", "lookup": "customer", "values": {"tag": "formal"}},
            {"type": "send_email", "to": [{"kind": "email", "field": "customer.email"}],
             "subject": {"zh-CN": "欢迎您，{{ customer }}", "en": "Welcome"},
             "body": {"zh-CN": "感谢签约。", "en": "Thank you."}}]},
    "churn": {
        "entity": "customer", "trigger": {"on": "schedule", "cron": "0 2 * * *"},
        "condition": {">": [{"days_since": {"var": "last_order_date"}}, 90]},
        "actions": [{"type": "create_task", "assignee": {"kind": "owner"}, "due": "P2D",
                     "title": {"zh-CN": "流失预警：{{ name }}", "en": "Churn risk"}}]},
}


def document() -> dict[str, Any]:
    doc = copy.deepcopy(SALES)
    doc["entities"].update(copy.deepcopy(ENTITIES))
    doc["entities"]["customer"]["fields"]["last_order_date"] = {"type": "date"}
    doc["rules"] = copy.deepcopy(RULES)
    return doc





async def titles(services: Services, user_id: int) -> list[str]:
    async with services.database.read() as conn:
        return list((await conn.execute(select(notifications.c.title).where(
            notifications.c.user_id == user_id).order_by(notifications.c.id))).scalars())


async def test_the_five_example_rules(api: httpx.AsyncClient, services: Services) -> None:
    manager = await user(api, "manager@example.com")
    rep = await user(api, "rep@example.com", manager="manager@example.com")
    lawyer = await user(api, "legal@example.com")
    response = await api.post("/api/apps", json={"slug": "sales", "metadata": document()})
    assert response.status_code == 201, response.text
    await _role(services, "legal", lawyer)

    # 1. East China leads wait in the East China team's pool
    team = await post(api, "team", {"code": "east_china_team", "name": "华东"})
    lead = await post(api, "lead", {"name": "张三", "region": "east_china", "owner": rep})
    assert (lead["team"], lead["owner"]) == (team["id"], None)

    # 2. three days in initial contact without a follow-up: the owner's manager hears of it
    start = services.clock.now()
    stale = await post(api, "opportunity", {"name": "服务器", "owner": rep,
                                            "stage": "initial_contact"})
    busy = await post(api, "opportunity", {"name": "存储", "owner": rep,
                                           "stage": "initial_contact"})
    await post(api, "follow_up", {"opportunity": busy["id"], "notes": "预算有限"})
    worker = Worker(services)
    assert (await worker.run_once(start + timedelta(days=2))).done["rules"] == 0
    assert (await worker.run_once(start + timedelta(days=3, minutes=1))).done["rules"] == 1
    assert await titles(services, manager) == ["商机停滞：服务器"]
    assert (await worker.run_once(start + timedelta(days=3, minutes=2))).done["rules"] == 0
    assert stale["stage_changed_at"] is not None

    # 3. a quote marked sent drafts a contract and tells legal
    customer = await post(api, "customer", {"name": "格力", "tag": "prospect", "owner": rep,
                                            "email": "boss@gree.example"})
    await patch(api, "opportunity", stale["id"], {"customer": customer["id"]})
    quote = await post(api, "quote", {"opportunity": stale["id"], "total": "88000.00",
                                      "status": "draft"})
    assert (await api.get(f"{RECORDS}/contract")).json()["items"] == []
    await patch(api, "quote", quote["id"], {"status": "sent"})
    [contract] = (await api.get(f"{RECORDS}/contract")).json()["items"]
    assert (contract["customer"], contract["status"]) == (customer["id"], "draft")
    assert str(contract["amount"]) in ("88000", "88000.0", "88000.00")
    assert await titles(services, lawyer) == ["请审核合同草稿（报价 ¥88,000.00）"]

    # 4. signed: the customer becomes formal and gets the welcome email
    await patch(api, "contract", contract["id"], {"status": "signed"})
    assert (await api.get(f"{RECORDS}/customer/{customer['id']}")).json()["tag"] == "formal"
    async with services.database.read() as conn:
        mail = (await conn.execute(select(outbox.c.payload).where(outbox.c.kind == "email"))
                ).scalars().all()
    assert [(m["to"], m["subject"]) for m in mail] == [(["boss@gree.example"], "欢迎您，格力")]

    # 5. no order for three months: a churn warning task for the owner, once per night
    today = start.date()
    await patch(api, "customer", customer["id"],
                {"last_order_date": str(today - timedelta(days=120))})
    await post(api, "customer", {"name": "美的", "owner": rep,
                                 "last_order_date": str(today - timedelta(days=10))})
    night = start.replace(hour=18, minute=5)  # 02:05 in Shanghai
    assert (await worker.run_once(night)).done["rules"] == 1
    assert (await worker.run_once(night)).done["rules"] == 0
    async with services.database.read() as conn:
        warned = (await conn.execute(select(tasks.c.title, tasks.c.assignee_id, tasks.c.record_id)
                                     .where(tasks.c.source_rule == "churn"))).all()
    assert [tuple(row) for row in warned] == [("流失预警：格力", rep, customer["id"])]


async def _role(services: Services, role: str, user_id: int) -> None:
    async with services.database.write() as conn:
        app_id = await conn.scalar(select(apps.c.id).where(apps.c.slug == "sales"))
        await conn.execute(insert(role_members).values(app_id=app_id, role=role,
                                                       user_id=user_id))


async def test_round_robin_under_concurrent_creates(api: httpx.AsyncClient,
                                                    services: Services) -> None:
    members = [await user(api, f"rep{n}@example.com") for n in range(3)]
    doc = document()
    doc["rules"] = {"rotate": {"entity": "lead", "trigger": {"on": "create"},
                               "actions": [{"type": "assign", "strategy": "round_robin",
                                            "candidates": {"field": "team.members"}}]}}
    assert (await api.post("/api/apps", json={"slug": "sales", "metadata": doc})
            ).status_code == 201
    team = await post(api, "team", {"code": "t", "members": members})
    created = await asyncio.gather(*[
        api.post(f"{RECORDS}/lead", json={"name": f"l{n}", "team": team["id"]})
        for n in range(12)])
    assert all(r.status_code == 201 for r in created), [r.text for r in created]
    owners = [r.json()["owner"] for r in created]
    assert sorted(owners.count(m) for m in members) == [4, 4, 4]  # each exactly once, even


async def test_a_published_rule_acts_on_the_next_save_and_previews_its_reach(
        api: httpx.AsyncClient, services: Services) -> None:
    doc = document()
    doc["rules"] = {}
    assert (await api.post("/api/apps", json={"slug": "sales", "metadata": doc})
            ).status_code == 201
    now = services.clock.now()
    services.clock.set(now - timedelta(days=40))
    old = [await post(api, "lead", {"name": f"老{n}", "company": "集团"}) for n in range(3)]
    services.clock.set(now)
    recent = await post(api, "lead", {"name": "新", "company": "集团"})
    await post(api, "lead", {"name": "别", "company": "小店"})
    doc["rules"] = {"vip": {"entity": "lead", "trigger": {"on": "create"},
                            "condition": {"==": [{"var": "company"}, "集团"]},
                            "actions": [{"type": "tag", "add": ["vip"]}]}}
    assert (await api.put("/api/apps/sales/metadata/draft", json=doc)).status_code == 200
    tried = await api.post("/api/apps/sales/rules/vip/try",
                           json={"draft": True, "preview": True, "days": 30})
    assert tried.status_code == 200, tried.text
    assert (tried.json()["count"], tried.json()["sample"]) == (1, [recent["id"]])
    everything = await api.post("/api/apps/sales/rules/vip/try",
                                json={"draft": True, "preview": True})
    assert everything.json()["count"] == 4
    assert (await api.post("/api/apps/sales/metadata/publish", json={})).status_code == 200
    # no restart: the very next save runs the new rule; old records are untouched
    assert (await post(api, "lead", {"name": "后", "company": "集团"}))["tags"] == ["vip"]
    assert (await api.get(f"{RECORDS}/lead/{old[0]['id']}")).json()["tags"] is None
