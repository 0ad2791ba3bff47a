"""Rules fired by saves, through the public API on both databases: routing and pool
assignment, rules that settle (chains, order, stop, first-match groups), conversion into
several records, related updates, round robin and least-loaded assignment, tasks,
notifications, emails and webhooks in the outbox, traces, and refusals at publish."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from fixture_kit import if_match
from rules_api import RECORDS, patch, post, publish, user
from rules_app import sales_app
from sqlalchemy import select

from loom.metamodel.errors import Conflict
from loom.platform.outbox.email import EmailTransport
from loom.platform.records.context import WriteBudget
from loom.platform.security.users import actor_from_row
from loom.platform.services import Services
from loom.platform.storage.system_tables import outbox, rule_runs, tasks, users
from loom.platform.worker import Worker

ROUTE_EAST = {
    "entity": "lead", "trigger": {"on": "create"}, "order": 10,
    "condition": {"==": [{"var": "region"}, "east_china"]},
    "actions": [
        {"type": "set_field", "field": "team", "value": "east_china_team", "match": "code"},
        {"type": "assign", "strategy": "pool"},
        {"type": "notify", "to": [{"kind": "field", "field": "team.manager"}],
         "title": {"zh-CN": "新线索：{{ name }}（{{ company }}）", "en": "New lead {{ name }}"}}]}


async def test_routing_into_a_team_pool(api: httpx.AsyncClient, services: Services) -> None:
    manager = await user(api, "manager@example.com")
    await publish(api, {"route_east": ROUTE_EAST})
    team = await post(api, "team", {"code": "east_china_team", "name": "华东", "manager": manager})
    lead = await post(api, "lead", {"name": "张三", "company": "华为", "region": "east_china",
                                    "owner": 1})
    assert (lead["team"], lead["owner"]) == (team["id"], None)  # in the team's pool
    other = await post(api, "lead", {"name": "李四", "region": "north_china", "owner": 1})
    assert (other["team"], other["owner"]) == (None, 1)
    async with services.database.read() as conn:
        runs = (await conn.execute(select(rule_runs))).mappings().all()
    assert [(r["rule"], r["record_id"], r["status"]) for r in runs] == [
        ("route_east", lead["id"], "done")]
    assert runs[0]["inputs"] == {"region": "east_china"}
    assert [a["type"] for a in runs[0]["actions"]] == ["set_field", "assign", "notify"]
    assert runs[0]["actions"][2]["to"] == [manager]
    # the manager sees it in the inbox, rendered from the record
    token = (await api.post("/api/auth/token", json={
        "email": "manager@example.com", "password": "long-password-1"})).json()["access_token"]
    inbox = (await api.get("/api/notifications",
                           headers={"Authorization": f"Bearer {token}"})).json()["items"]
    assert [(n["title"], n["record_id"]) for n in inbox] == [("新线索：张三（华为）", lead["id"])]


async def test_rules_settle_in_order(api: httpx.AsyncClient) -> None:
    rules = {
        # fires second: it needs the grade the other rule sets
        "tag_hot": {"entity": "lead", "trigger": {"on": "create"}, "order": 1,
                    "condition": {"==": [{"var": "grade"}, "A"]},
                    "actions": [{"type": "tag", "add": ["hot"]}]},
        "grade": {"entity": "lead", "trigger": {"on": "field_change", "fields": ["company"]},
                  "order": 2, "condition": {"in": ["集团", {"var": "company"}]},
                  "actions": [{"type": "set_field", "field": "grade", "value": "A"}]},
        "first": {"entity": "lead", "trigger": {"on": "update"}, "order": 3, "group": "route",
                  "condition": {"==": [{"var": "region"}, "east_china"]},
                  "actions": [{"type": "set_field", "field": "status", "value": "qualified"}]},
        "second": {"entity": "lead", "trigger": {"on": "update"}, "order": 4, "group": "route",
                   "actions": [{"type": "set_field", "field": "status", "value": "new"}]},
        "stop": {"entity": "lead", "trigger": {"on": "update"}, "order": 5,
                 "stop_on_match": True, "condition": {"==": [{"var": "name"}, "stop"]},
                 "actions": [{"type": "tag", "add": ["vip"]}]},
        "after_stop": {"entity": "lead", "trigger": {"on": "update"}, "order": 6,
                       "actions": [{"type": "set_field", "field": "company", "value": "x"}]},
    }
    await publish(api, rules)
    lead = await post(api, "lead", {"name": "a", "company": "海尔集团"})
    assert (lead["grade"], lead["tags"]) == ("A", ["hot"])
    plain = await post(api, "lead", {"name": "b", "company": "小店"})
    assert (plain["grade"], plain["tags"]) == (None, None)
    # first match of a group wins; a stop_on_match rule ends the pass
    east = await patch(api, "lead", plain["id"], {"region": "east_china", "name": "stop"})
    assert (east["status"], east["tags"], east["company"]) == ("qualified", ["vip"], "小店")
    north = await patch(api, "lead", lead["id"], {"region": "north_china"})
    assert (north["status"], north["company"]) == ("new", "x")


CONVERT = {
    "entity": "lead", "trigger": {"on": "field_change", "fields": ["status"]},
    "condition": {"==": [{"var": "status"}, "qualified"]},
    "actions": [{"type": "convert", "targets": [
        {"entity": "customer", "name": "customer", "match": ["name"],
         "values": {"name": {"var": "company"}, "tag": "prospect", "owner": {"var": "owner"}},
         "link": "converted_customer"},
        {"entity": "contact", "values": {"name": {"var": "name"},
                                         "customer": {"created": "customer"}}}]},
        {"type": "set_field", "field": "grade", "value": "converted"}]}


async def test_convert_creates_linked_records(api: httpx.AsyncClient) -> None:
    await publish(api, {"convert": CONVERT})
    lead = await post(api, "lead", {"name": "王五", "company": "比亚迪", "owner": 1})
    converted = await patch(api, "lead", lead["id"], {"status": "qualified"})
    customers = (await api.get(f"{RECORDS}/customer")).json()["items"]
    contacts = (await api.get(f"{RECORDS}/contact")).json()["items"]
    assert [(c["name"], c["tag"], c["owner"]) for c in customers] == [("比亚迪", "prospect", 1)]
    assert [(c["name"], c["customer"]) for c in contacts] == [("王五", customers[0]["id"])]
    assert (converted["converted_customer"], converted["grade"]) == (customers[0]["id"],
                                                                     "converted")
    # a second lead of the same company joins the existing customer
    again = await post(api, "lead", {"name": "赵六", "company": "比亚迪"})
    again = await patch(api, "lead", again["id"], {"status": "qualified"})
    assert again["converted_customer"] == customers[0]["id"]
    assert len((await api.get(f"{RECORDS}/customer")).json()["items"]) == 1
    assert len((await api.get(f"{RECORDS}/contact")).json()["items"]) == 2


async def test_a_failing_action_refuses_the_save(api: httpx.AsyncClient) -> None:
    await publish(api, {"convert": CONVERT})
    lead = await post(api, "lead", {"name": "无公司"})  # the customer would have no name
    response = await api.patch(f"{RECORDS}/lead/{lead['id']}", json={"status": "qualified"},
                               headers={"accept-language": "en", **if_match(lead)})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert "Rule 'convert'" in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["name"]
    assert (await api.get(f"{RECORDS}/lead/{lead['id']}")).json()["status"] is None
    assert (await api.get(f"{RECORDS}/customer")).json()["items"] == []


SIGNED = {
    "entity": "contract", "trigger": {"on": "field_change", "fields": ["status"]},
    "condition": {"==": [{"var": "status"}, "signed"]},
    "actions": [
        {"type": "update_related", "lookup": "customer", "values": {"tag": "formal"}},
        {"type": "send_email", "to": [{"kind": "email", "field": "customer.email"}],
         "cc": [{"kind": "manager", "of": "actor"}],
         "subject": {"zh-CN": "欢迎成为正式客户，{{ customer }}", "en": "Welcome"},
         "body": {"zh-CN": "合同金额：{{ amount }}", "en": "Amount {{ amount }}"}},
        {"type": "webhook", "url": "http://127.0.0.1:9/hooks/contract",
         "secret_env": "LOOM_TEST_HOOK_SECRET"}]}


async def test_signed_contract_updates_the_customer_and_mails(
        api: httpx.AsyncClient, services: Services) -> None:
    await publish(api, {"signed": SIGNED})
    customer = await post(api, "customer", {"name": "格力", "tag": "prospect",
                                            "email": "boss@gree.example"})
    contract = await post(api, "contract", {"customer": customer["id"], "amount": "120000.50",
                                            "status": "draft"})
    await patch(api, "contract", contract["id"], {"status": "signed"})
    assert (await api.get(f"{RECORDS}/customer/{customer['id']}")).json()["tag"] == "formal"
    async with services.database.read() as conn:
        items = (await conn.execute(select(outbox).order_by(outbox.c.id))).mappings().all()
    assert [i["kind"] for i in items] == ["email", "webhook"]
    email = items[0]["payload"]
    assert email["to"] == ["boss@gree.example"]
    assert email["subject"] == "欢迎成为正式客户，格力"  # a lookup shows its title
    assert email["text"] == "合同金额：¥120,000.50"  # money as people write it
    hook = items[1]["payload"]
    assert hook["body"]["record"]["status"] == "signed"
    assert str(hook["body"]["record"]["amount"]) == "120000.50"  # exact, not a float
    # saving again without a status change sends nothing more
    await patch(api, "contract", contract["id"], {"amount": "1"})
    async with services.database.read() as conn:
        assert len((await conn.execute(select(outbox.c.id))).all()) == 2

    inbox: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            inbox.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        worker = Worker(services, email=EmailTransport(f"smtp://127.0.0.1:{port}",
                                                       "crm@example.com"))
        await worker.deliver_outbox(services.clock.now())
    finally:
        controller.stop()
    assert [m["Subject"] for m in inbox] == ["欢迎成为正式客户，格力"]
    assert inbox[0].get_content().strip() == "合同金额：¥120,000.50"


async def test_round_robin_and_least_loaded(api: httpx.AsyncClient) -> None:
    members = [await user(api, f"rep{n}@example.com") for n in range(3)]
    rules = {
        "rotate": {"entity": "lead", "trigger": {"on": "create"},
                   "condition": {"==": [{"var": "status"}, "new"]},
                   "actions": [{"type": "assign", "strategy": "round_robin",
                                "candidates": {"field": "team.members"}}]},
        "balance": {"entity": "lead", "trigger": {"on": "create"},
                    "condition": {"==": [{"var": "status"}, "qualified"]},
                    "actions": [{"type": "assign", "strategy": "least_loaded",
                                 "candidates": {"users": ["rep0@example.com",
                                                          "rep1@example.com"]},
                                 "load": {"condition": {"!=": [{"var": "status"},
                                                               "converted"]}}}]}}
    await publish(api, rules)
    team = await post(api, "team", {"code": "t", "members": members})
    owners = [(await post(api, "lead", {"name": f"l{n}", "status": "new", "team": team["id"]})
               )["owner"] for n in range(4)]
    assert owners == [members[0], members[1], members[2], members[0]]
    # rep0 holds 2 open leads, rep1 one: the next qualified leads go to rep1, then by id
    balanced = [(await post(api, "lead", {"name": f"q{n}", "status": "qualified"}))["owner"]
                for n in range(3)]
    assert balanced == [members[1], members[0], members[1]]


async def test_task_with_due_time(api: httpx.AsyncClient, services: Services) -> None:
    rep = await user(api, "rep@example.com", manager="admin@example.com")
    await publish(api, {"first_call": {
        "entity": "lead", "trigger": {"on": "field_change", "fields": ["owner"]},
        "condition": {"!": {"is_blank": {"var": "owner"}}},
        "actions": [{"type": "create_task", "assignee": {"kind": "owner"}, "due": "PT24H",
                     "remind_before": "PT2H", "escalate_to": {"kind": "manager", "of": "owner"},
                     "title": {"zh-CN": "24小时内首次联系 {{ name }}", "en": "First call"}}]}})
    lead = await post(api, "lead", {"name": "孙七", "owner": rep})
    async with services.database.read() as conn:
        rows = (await conn.execute(select(tasks))).mappings().all()
    assert [(t["title"], t["assignee_id"], t["record_id"], t["status"]) for t in rows] == [
        ("24小时内首次联系 孙七", rep, lead["id"], "open")]
    assert (rows[0]["due_at"] - services.clock.now()).total_seconds() == 24 * 3600


async def test_publish_refuses_broken_rules(api: httpx.AsyncClient) -> None:
    broken = {
        "unknown_field": {"entity": "lead", "trigger": {"on": "create"},
                          "actions": [{"type": "set_field", "field": "regoin", "value": "x"}]},
        "bad_condition": {"entity": "lead", "trigger": {"on": "update"},
                          "condition": {">": [{"var": "nmae"}, 1]},
                          "actions": [{"type": "tag", "add": ["gold"]}]},
        "bad_cron": {"entity": "lead", "trigger": {"on": "schedule", "cron": "every day"},
                     "actions": [{"type": "set_field", "field": "grade", "value": "x"}]},
        "bad_template": {"entity": "lead", "trigger": {"on": "create"},
                         "actions": [{"type": "notify", "to": [{"kind": "owner"}],
                                      "title": {"en": "{{ name "}}]},
        "no_entity": {"entity": "leed", "trigger": {"on": "create"},
                      "actions": [{"type": "tag", "add": ["vip"]}]},
        "bad_ref": {"entity": "lead", "trigger": {"on": "create"},
                    "actions": [{"type": "create_record", "entity": "contact",
                                 "values": {"name": "x", "customer": {"created": "customer"}}}]},
    }
    response = await api.post("/api/apps", json={"slug": "sales", "metadata": sales_app(broken)},
                              headers={"accept-language": "en"})
    assert response.status_code == 422, response.text
    found = {e["field"].split(" ")[0]: e["message"] for e in response.json()["errors"]}
    assert "has no field 'regoin'" in found["rules.unknown_field.actions[0].field"]
    assert "name" in found["rules.bad_condition.condition"]  # did you mean 'name'
    assert "cron" in found["rules.bad_cron.trigger.cron"]
    assert "does not parse" in found["rules.bad_template.actions[0].title"]
    assert "leed" in found["rules.no_entity.entity"]
    assert "earlier" in found["rules.bad_ref.actions[0].values.customer"]
    assert "gold" in found["rules.bad_condition.actions[0].add"]
    assert (await api.get("/api/apps/sales")).status_code == 404  # nothing half-created


async def test_publish_refuses_rule_cycles(api: httpx.AsyncClient) -> None:
    cycle = {
        "a": {"entity": "lead", "trigger": {"on": "field_change", "fields": ["grade"]},
              "actions": [{"type": "set_field", "field": "company", "value": "x"}]},
        "b": {"entity": "lead", "trigger": {"on": "field_change", "fields": ["company"]},
              "actions": [{"type": "set_field", "field": "grade", "value": "y"}]},
        "c": {"entity": "contract", "trigger": {"on": "update"},
              "actions": [{"type": "update_related", "lookup": "customer",
                           "values": {"tag": "formal"}}]},
        "d": {"entity": "customer", "trigger": {"on": "update"},
              "actions": [{"type": "update_related", "entity": "contract", "via": "customer",
                           "values": {"status": "signed"}}]},
        # not a cycle: a plain update rule setting its own record does not start a save
        "e": {"entity": "lead", "trigger": {"on": "update"},
              "actions": [{"type": "set_field", "field": "status", "value": "new"}]},
    }
    response = await api.post("/api/apps", json={"slug": "sales", "metadata": sales_app(cycle)},
                              headers={"accept-language": "en"})
    assert response.status_code == 422, response.text
    messages = sorted(e["message"] for e in response.json()["errors"])
    assert messages == ["rules set each other off in a circle: a → b → a",
                        "rules set each other off in a circle: c → d → c"]


async def test_rollups_count_in_cycles_and_the_budget_stops_chains(
        api: httpx.AsyncClient, services: Services) -> None:
    document = sales_app({
        "pay": {"entity": "contract", "trigger": {"on": "update"},
                "actions": [{"type": "create_record", "entity": "payment",
                             "values": {"contract": {"var": "id"}, "amount": 1}}]}})
    document["entities"]["payment"] = {"label": "Payment", "fields": {
        "contract": {"type": "lookup", "ref": "contract"}, "amount": {"type": "currency"}}}
    document["entities"]["contract"]["fields"]["received"] = {
        "type": "rollup", "rollup": {"entity": "payment", "link_field": "contract",
                                     "field": "amount"}}
    response = await api.post("/api/apps", json={"slug": "sales", "metadata": document},
                              headers={"accept-language": "en"})
    assert response.status_code == 422, response.text
    assert [e["message"] for e in response.json()["errors"]] == [
        "rules set each other off in a circle: pay → pay"]

    # a chain of rules beyond the budget stops with the chain named, and writes nothing
    await publish(api, {"convert": CONVERT})
    lead = await post(api, "lead", {"name": "周八", "company": "美的"})
    async with services.database.read() as conn:
        actor = actor_from_row((await conn.execute(
            select(users).where(users.c.email == "admin@example.com"))).mappings().one())
    with pytest.raises(Conflict) as stopped:
        async with services.database.write() as conn:
            runtime = await services.apps.runtime(conn, actor, "sales")
            await services.pipeline.update(conn, runtime, actor, "lead", lead["id"],
                                           {"status": "qualified"},
                                           budget=WriteBudget(max_depth=1))
    assert "lead#1 → new customer" in str(stopped.value)
    assert (await api.get(f"{RECORDS}/customer")).json()["items"] == []


async def test_a_rule_may_set_its_own_trigger_field(api: httpx.AsyncClient) -> None:
    await publish(api, {"normalise": {
        "entity": "lead", "trigger": {"on": "field_change", "fields": ["company"]},
        "actions": [{"type": "set_field", "field": "company",
                     "value": {"cat": [{"var": "company"}, " 有限公司"]}}]}})
    lead = await post(api, "lead", {"name": "x", "company": "华为"})
    assert lead["company"] == "华为 有限公司"  # once per save, not in a loop
