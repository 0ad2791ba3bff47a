"""Departed users: an administrator deactivates them — sign-in and every token stop at
once — and hands their open tasks (to-dos, flow approvals, places in pools and in
sequential approvals) and the records they own in every app to a successor."""

from __future__ import annotations

import httpx
from fixture_kit import finished, problem_of
from identity_api import EN, add_user, bearer, fields_of, other_workspace, sign_in
from sqlalchemy import select, update

from loom.platform.clock import FixedClock
from loom.platform.records.handover import INLINE_RECORDS
from loom.platform.security.actors import system_actor
from loom.platform.services import Services
from loom.platform.storage.system_tables import apps, notifications, tasks
from loom.platform.tasks.store import create_task

LEAVER, SUCCESSOR = "leaver@example.com", "successor@example.com"
DOC = {"app": {"label": "Buying"},
       "entities": {"purchase": {"label": "Purchase", "fields": {"item": {"type": "text"}}}},
       "flows": {"approve": {
           "entity": "purchase", "start": {"on": "manual"},
           "nodes": {"check": {"type": "user_task", "label": "Check",
                               "assignees": [{"kind": "user", "user": LEAVER}]},
                     "chain": {"type": "user_task", "label": "Chain", "mode": "sequential",
                               "assignees": [{"kind": "user", "user": "first@example.com"},
                                             {"kind": "user", "user": LEAVER}]},
                     "done": {"type": "end"}},
           "edges": [{"from": "start", "to": "check"},
                     {"from": "check", "to": "chain", "outcome": "approve"},
                     {"from": "check", "to": "done", "outcome": "reject"},
                     {"from": "chain", "to": "done", "outcome": "approve"},
                     {"from": "chain", "to": "done", "outcome": "reject"}]}}}


async def _people(api: httpx.AsyncClient) -> dict[str, dict]:
    return {email: await add_user(api, email, f"{email.split('@')[0]}-password")
            for email in (LEAVER, SUCCESSOR, "first@example.com")}


async def _start(api: httpx.AsyncClient) -> dict:
    assert (await api.post("/api/apps", json={"slug": "buy", "metadata": DOC})).status_code \
        == 201
    record = (await api.post("/api/apps/buy/records/purchase", json={"item": "laptop"})).json()
    started = await api.post("/api/apps/buy/flow-instances",
                             json={"flow": "approve", "record_id": record["id"]})
    assert started.status_code == 201, started.text
    return started.json()


async def test_a_departure_hands_over_the_open_work(
        api: httpx.AsyncClient, anonymous: httpx.AsyncClient, services: Services,
        clock: FixedClock) -> None:
    people = await _people(api)
    leaver, successor = people[LEAVER]["id"], people[SUCCESSOR]["id"]
    leaver_token = await bearer(anonymous, LEAVER, "leaver-password")
    instance = await _start(api)
    [approval] = instance["open_tasks"]
    assert approval["assignee_id"] == leaver
    async with services.database.write() as conn:
        app = (await conn.execute(select(apps).where(apps.c.slug == "buy"))).mappings().one()
        common = {"workspace_id": app["workspace_id"], "app_id": app["id"],
                  "entity": None, "record_id": None, "now": clock.now(), "locale": "zh-CN"}
        todo = await create_task(conn, title="call back", assignee_id=leaver, **common)
        done = await create_task(conn, title="old", assignee_id=leaver, **common)
        await conn.execute(tasks.update().where(tasks.c.id == done).values(status="done"))
        pooled = await create_task(conn, title="pool", assignee_id=None, **common)
        await conn.execute(tasks.update().where(tasks.c.id == pooled).values(
            candidates=[leaver, people["first@example.com"]["id"]]))

    response = await api.post(f"/api/users/{leaver}/deactivate",
                              json={"reassign_to": "Successor@example.com"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["active"] is False
    assert body["reassigned_to"] == SUCCESSOR
    assert body["reassigned"] == {"tasks": 3, "records": 0}

    async with services.database.read() as conn:
        rows = {row["id"]: row for row in (await conn.execute(select(tasks))).mappings()}
    assert rows[approval["id"]]["assignee_id"] == successor
    assert rows[approval["id"]]["version"] == 2
    assert rows[todo]["assignee_id"] == successor
    assert rows[done]["assignee_id"] == leaver  # history stays as it was
    assert rows[pooled]["candidates"] == [successor, people["first@example.com"]["id"]]
    flows = (await api.get("/api/apps/buy/flow-instances",
                           params={"entity": "purchase", "record": instance["record_id"]})
             ).json()["items"]
    transfer = flows[0]["history"][-1]
    assert (transfer["event"], transfer["details"]) == (
        "transfer", {"user": successor, "reason": "deactivated", "from": leaver})
    # the successor acts on the approval; the leaver is out everywhere
    successor_headers = await bearer(anonymous, SUCCESSOR, "successor-password")
    acted = await anonymous.post(f"/api/apps/buy/tasks/{approval['id']}/actions",
                                 headers={**successor_headers, "if-match": "2"},
                                 json={"action": "approve"})
    assert acted.status_code == 200, acted.text
    assert acted.json()["completed_by"] == successor
    problem_of(await anonymous.get("/api/apps", headers=leaver_token), 401)
    problem_of(await sign_in(anonymous, LEAVER, "leaver-password"), 401)
    assert (await anonymous.post("/api/auth/password-reset",
                                 json={"email": LEAVER})).status_code == 202


async def test_sequential_approvers_still_to_come_are_replaced(
        api: httpx.AsyncClient, services: Services) -> None:
    people = await _people(api)
    instance = await _start(api)
    approval = instance["open_tasks"][0]["id"]
    # the admin decides the first step; the chain then waits on first@, LEAVER queued
    acted = await api.post(f"/api/apps/buy/tasks/{approval}/actions", headers={"if-match": "1"},
                           json={"action": "approve"})
    assert acted.status_code == 200, acted.text
    assert (await api.post(f"/api/users/{people[LEAVER]['id']}/deactivate",
                           json={"reassign_to": SUCCESSOR})).status_code == 200
    flows = (await api.get("/api/apps/buy/flow-instances", params={
        "entity": "purchase", "record": instance["record_id"]})).json()["items"]
    [chain_task] = flows[0]["open_tasks"]
    assert chain_task["assignee_id"] == people["first@example.com"]["id"]
    acted = await api.post(f"/api/apps/buy/tasks/{chain_task['id']}/actions",
                           headers={"if-match": "1"}, json={"action": "approve"})
    assert acted.status_code == 200, acted.text
    flows = (await api.get("/api/apps/buy/flow-instances", params={
        "entity": "purchase", "record": instance["record_id"]})).json()["items"]
    assert [t["assignee_id"] for t in flows[0]["open_tasks"]] == [people[SUCCESSOR]["id"]]


async def test_refusals(api: httpx.AsyncClient, anonymous: httpx.AsyncClient,
                       services: Services) -> None:
    people = await _people(api)
    leaver = people[LEAVER]["id"]
    admin = (await api.get("/api/users")).json()["items"][0]
    deactivate = f"/api/users/{leaver}/deactivate"
    for successor, message in (("ghost@example.com", "There is no active user "
                                                     "ghost@example.com to hand the work to"),
                               (LEAVER, "The work cannot be handed to the user who leaves"),
                               ("x\x00", "There is no active user x\x00 to hand the work to")):
        refused = problem_of(await api.post(deactivate, headers=EN,
                                            json={"reassign_to": successor}), 422)
        assert refused["errors"] == [{"field": "reassign_to", "message": message}]
    problem_of(await api.post(deactivate, json={"reassign_to": 3}), 422)
    problem_of(await api.post(deactivate, json={"extra": True}), 422)
    self_refusal = problem_of(await api.post(f"/api/users/{admin['id']}/deactivate",
                                             headers=EN), 409)
    assert self_refusal["detail"].startswith("You cannot deactivate yourself")
    clerk = await bearer(anonymous, SUCCESSOR, "successor-password")
    problem_of(await anonymous.post(deactivate, headers=clerk), 403)
    other = await other_workspace(services)
    problem_of(await api.post(f"/api/users/{other['member']['id']}/deactivate"), 404)
    problem_of(await api.post("/api/users/99999/deactivate"), 404)
    # someone of another workspace is no successor
    refused = problem_of(await api.post(deactivate, json={
        "reassign_to": "member@other.example"}), 422)
    assert fields_of(refused) == ["reassign_to"]
    # nothing changed on the way; without a successor the work stays where it is
    assert all(u["active"] for u in (await api.get("/api/users")).json()["items"])
    done = await api.post(deactivate)
    assert done.status_code == 200 and done.json()["reassigned"] == {}
    # an already inactive user can be deactivated again (their work handed over later)
    again = await api.post(deactivate, json={"reassign_to": SUCCESSOR})
    assert again.json()["reassigned"] == {"tasks": 0, "records": 0}


ACCOUNTS = {"app": {"label": "Accounts"}, "entities": {
    "customer": {"label": "Customer", "fields": {
        "name": {"type": "text"}, "owner": {"type": "user"},
        "status": {"type": "select", "options": [{"value": "open"}, {"value": "closed"}]},
        "close_reason": {"type": "text", "label": {"en": "Close reason", "zh-CN": "关闭原因"},
                         "required_if": {"==": [{"var": "status"}, "closed"]}}}},
    "note": {"label": "Note", "fields": {"text": {"type": "text"}}}},  # nobody owns notes
    "rules": {"new_owner": {
        "entity": "customer", "trigger": {"on": "field_change", "fields": ["owner"]},
        "actions": [{"type": "notify", "to": [{"kind": "owner"}],
                     "title": {"en": "Now yours: {{ name }}", "zh-CN": "转交给你：{{ name }}"}}]}}}


async def test_the_records_they_own_go_to_the_successor_through_the_pipeline(
        api: httpx.AsyncClient, services: Services) -> None:
    people = await _people(api)
    leaver, successor = people[LEAVER]["id"], people[SUCCESSOR]["id"]
    first = people["first@example.com"]["id"]
    created = await api.post("/api/apps", json={"slug": "acct", "metadata": ACCOUNTS})
    assert created.status_code == 201, created.text
    base = "/api/apps/acct/records/customer"
    ids = {}
    for name, owner in (("华为", leaver), ("小米", leaver), ("阿里", first), ("旧客户", leaver)):
        response = await api.post(base, json={"name": name, "owner": owner, "status": "open"})
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    await _closed_long_ago(services, ids["旧客户"])

    response = await api.post(f"/api/users/{leaver}/deactivate", headers=EN,
                              json={"reassign_to": SUCCESSOR})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reassigned"] == {"tasks": 0, "records": 2}
    [left] = body["not_reassigned"]
    assert (left["app"], left["entity"], left["id"]) == ("acct", "customer", ids["旧客户"])
    assert "close_reason" in left["reason"]
    owners = {name: (await api.get(f"{base}/{rid}")).json()["owner"] for name, rid in ids.items()}
    assert owners == {"华为": successor, "小米": successor, "阿里": first, "旧客户": leaver}
    history = (await api.get(f"{base}/{ids['华为']}/history")).json()["items"]
    handed = history[-1]
    assert handed["changes"] == {"owner": [leaver, successor]}
    admin = (await api.get("/api/users")).json()["items"][0]
    assert (handed["actor_id"], handed["source"]) == (admin["id"], "api")
    async with services.database.read() as conn:
        titles = sorted((await conn.execute(select(notifications.c.title).where(
            notifications.c.user_id == successor))).scalars())
    assert titles == ["转交给你：华为", "转交给你：小米"]


async def _closed_long_ago(services: Services, record_id: int) -> None:
    """A record from before close_reason was required: closed without one."""
    async with services.database.write() as conn:
        workspace = await conn.scalar(select(apps.c.workspace_id).where(apps.c.slug == "acct"))
        runtime = await services.apps.runtime(conn, system_actor(workspace), "acct")
        table = runtime.tables["customer"]
        await conn.execute(update(table).where(table.c.id == record_id).values(status="closed"))


async def test_many_records_are_handed_over_as_an_operation(api: httpx.AsyncClient) -> None:
    """More records than a request should wait for: the deactivation answers at once (202)
    and the records move in the background, in short transactions, followed to the end."""
    people = await _people(api)
    leaver, successor = people[LEAVER]["id"], people[SUCCESSOR]["id"]
    created = await api.post("/api/apps", json={"slug": "acct", "metadata": ACCOUNTS})
    assert created.status_code == 201, created.text
    base = "/api/apps/acct/records/customer"
    many = INLINE_RECORDS + 5
    made = await api.post(f"{base}/_bulk", json=[
        {"name": f"客户 {n}", "owner": leaver, "status": "open"} for n in range(many)])
    assert made.status_code == 201, made.text

    response = await api.post(f"/api/users/{leaver}/deactivate",
                              json={"reassign_to": SUCCESSOR})

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["user"]["active"] is False and body["reassigned"] == {"tasks": 0}
    assert response.headers["location"] == body["operation"]["url"]
    assert body["operation"]["kind"] == "records_handover"
    assert body["operation"]["params"] == {"user": leaver, "to": SUCCESSOR, "records": many}
    done = await finished(api, body["operation"])
    assert done["status"] == "succeeded", done
    assert done["result"] == {"records": many, "not_reassigned": []}
    assert done["progress"]["done"] == done["progress"]["total"] == many
    owners = {r["owner"] for r in (await api.get(base, params={"limit": 500})).json()["items"]}
    assert owners == {successor}
