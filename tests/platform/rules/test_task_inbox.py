"""The task inbox through the public API on both databases: who sees which tasks, and
completing one — by its assignee or an administrator only, once, with its timers
cancelled; other actions wait for the flow engine."""

from __future__ import annotations

import httpx
from fixture_kit import if_match
from rules_api import APP, RECORDS, get, patch, person, post, problem, publish
from rules_app import sales_app
from sqlalchemy import select

from loom.platform.services import Services
from loom.platform.storage.system_tables import flow_instances, timers

FIRST_CALL = {
    "entity": "lead", "trigger": {"on": "field_change", "fields": ["owner"]},
    "condition": {"!": {"is_blank": {"var": "owner"}}},
    "actions": [{"type": "create_task", "assignee": {"kind": "owner"}, "due": "PT24H",
                 "remind_before": "PT2H", "notes": {"en": "Ask about {{ company }}"},
                 "title": {"zh-CN": "首次联系 {{ name }}", "en": "First call {{ name }}"}}]}


async def tasks_of(api: httpx.AsyncClient, headers: dict[str, str] | None = None,
                   **params: str | int) -> list[tuple[str, int]]:
    response = await api.get(f"{APP}/tasks", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return [(t["title"], t["assignee_id"]) for t in response.json()["items"]]


async def test_who_sees_which_tasks(api: httpx.AsyncClient, services: Services) -> None:
    await publish(api, {"first_call": FIRST_CALL})
    rep, rep_headers = await person(api, services, "rep@example.com")
    mine = await post(api, "lead", {"name": "甲", "owner": 1})
    await post(api, "lead", {"name": "乙", "owner": rep})
    await post(api, "lead", {"name": "丙", "owner": rep})
    assert await tasks_of(api) == [("首次联系 甲", 1), ("首次联系 乙", rep), ("首次联系 丙", rep)]
    assert await tasks_of(api, assignee="me") == [("首次联系 甲", 1)]
    assert await tasks_of(api, assignee=rep) == [("首次联系 乙", rep), ("首次联系 丙", rep)]
    assert await tasks_of(api, record=mine["id"], entity="lead") == [("首次联系 甲", 1)]
    assert await tasks_of(api, entity="customer") == []
    assert await tasks_of(api, status="done") == []
    # someone who is not an administrator sees their own tasks only
    assert await tasks_of(api, rep_headers) == [("首次联系 乙", rep), ("首次联系 丙", rep)]
    assert await tasks_of(api, rep_headers, assignee="me", status="open") == [
        ("首次联系 乙", rep), ("首次联系 丙", rep)]
    problem(await api.get(f"{APP}/tasks", params={"assignee": 1}, headers=rep_headers), 403)
    item = (await api.get(f"{APP}/tasks", params={"assignee": "me"})).json()["items"][0]
    assert (item["kind"], item["status"], item["actions"], item["record_id"], item["entity"],
            item["source_rule"], item["notes"], item["flow_task"]) == (
        "todo", "open", ["complete"], mine["id"], "lead", "first_call", "Ask about ", False)
    for params, field in (({"assignee": "you"}, "assignee"), ({"status": "late"},
                                                               "query.status"),
                          ({"record": 0}, "query.record"), ({"limit": 5000}, "query.limit")):
        body = problem(await api.get(f"{APP}/tasks", params=params), 422)
        assert [e["field"] for e in body["errors"]] == [field]


async def test_completing_a_task(api: httpx.AsyncClient, services: Services) -> None:
    await publish(api, {"first_call": FIRST_CALL})
    rep, rep_headers = await person(api, services, "rep@example.com")
    _other, other_headers = await person(api, services, "other@example.com")
    await post(api, "lead", {"name": "乙", "owner": rep})
    await post(api, "lead", {"name": "丙", "owner": rep})
    first, second = (await api.get(f"{APP}/tasks")).json()["items"]
    url = f"{APP}/tasks/{first['id']}/actions"
    # only the assignee or an administrator
    problem(await api.post(url, json={"action": "complete"}, headers=other_headers), 403)
    # a to-do is completed; approving is for flow tasks
    body = problem(await api.post(url, json={"action": "approve"}, headers=rep_headers |
                                  {"accept-language": "en"}), 422)
    assert body["errors"] == [{
        "field": "action", "code": "task_action",
        "message": "'approve' is not an action of this task; it allows: complete"}]
    for bad, field in (({}, "action"), ({"action": "complete", "note": "x"}, "note"),
                       ({"action": "complete", "comment": 5}, "comment")):
        body = problem(await api.post(url, json=bad, headers=rep_headers), 422)
        assert [e["field"] for e in body["errors"]] == [field]
    problem(await api.post(url, json={"action": "complete"},
                           headers=rep_headers | {"if-match": '"9"'}), 409)
    response = await api.post(url, json={"action": "complete", "comment": "已电话沟通"},
                              headers=rep_headers)
    assert response.status_code == 200, response.text
    done = response.json()
    assert (done["status"], done["completed_by"], done["version"], done["actions"]) == (
        "done", rep, 2, [])
    assert (done["comment"], done["outcome"], done["notes"]) == ("已电话沟通", "complete",
                                                              "Ask about ")
    assert response.headers["etag"] == '"2"'
    async with services.database.read() as conn:
        states = (await conn.execute(select(timers.c.task_id, timers.c.kind, timers.c.status)
                                     .order_by(timers.c.id))).all()
    assert sorted((task, status) for task, _kind, status in states) == [
        (first["id"], "cancelled"), (first["id"], "cancelled"),
        (second["id"], "pending"), (second["id"], "pending")]
    problem(await api.post(url, json={"action": "complete"}, headers=rep_headers), 409)
    assert await tasks_of(api, rep_headers, status="open") == [("首次联系 丙", rep)]
    assert await tasks_of(api, rep_headers, status="done") == [("首次联系 乙", rep)]
    # an administrator may complete anyone's task
    response = await api.post(f"{APP}/tasks/{second['id']}/actions",
                              json={"action": "complete"})
    assert (response.status_code, response.json()["completed_by"]) == (200, 1)
    # tasks are found within their app only
    problem(await api.post(f"{APP}/tasks/999999/actions", json={"action": "complete"}), 404)
    problem(await api.post(f"{APP}/tasks/0/actions", json={"action": "complete"}), 422)
    other_app = await api.post("/api/apps", json={"slug": "other", "metadata": {
        "app": {"label": "Other"}, "entities": {"x": {"label": "X", "fields": {}}}}})
    assert other_app.status_code == 201, other_app.text
    problem(await api.post(f"/api/apps/other/tasks/{first['id']}/actions",
                           json={"action": "complete"}), 404)


REVIEW = {
    "entity": "lead",
    "start": {"on": "field_change", "fields": ["status"],
              "condition": {"==": [{"var": "status"}, "qualified"]}},
    "nodes": {
        "review": {"type": "user_task", "label": {"zh-CN": "线索审核", "en": "Review"},
                   "assignees": [{"kind": "user", "user": "rep@example.com"}]},
        "mark": {"type": "action", "actions": [
            {"type": "set_field", "field": "grade", "value": "checked"}]},
        "done": {"type": "end", "outcome": "approved"},
        "refused": {"type": "end", "outcome": "rejected"}},
    "edges": [{"from": "start", "to": "review"},
              {"from": "review", "to": "mark", "outcome": "approve"},
              {"from": "review", "to": "refused", "outcome": "reject"},
              {"from": "mark", "to": "done"}]}


async def test_flow_tasks_go_to_the_flow_runtime(api: httpx.AsyncClient,
                                                 services: Services) -> None:
    rep, rep_headers = await person(api, services, "rep@example.com")
    boss, boss_headers = await person(api, services, "boss@example.com")
    document = sales_app({})
    document["flows"] = {"review": REVIEW}
    response = await api.post("/api/apps", json={"slug": "sales", "metadata": document})
    assert response.status_code == 201, response.text
    lead = await post(api, "lead", {"name": "甲"})
    patched = await api.patch(f"{RECORDS}/lead/{lead['id']}", json={"status": "qualified"},
                              headers=if_match(lead))
    assert patched.status_code == 200, patched.text
    items = (await api.get(f"{APP}/tasks", headers=rep_headers)).json()["items"]
    assert [(t["title"], t["assignee_id"], t["flow_task"], t["actions"]) for t in items] == [
        ("线索审核", rep, True,
         ["approve", "reject", "send_back", "transfer", "add_approver"])]
    url = f"{APP}/tasks/{items[0]['id']}/actions"
    # an approval is not "completed"; the flow runtime names what it allows
    body = problem(await api.post(url, json={"action": "complete"}, headers=rep_headers |
                                  {"accept-language": "en"}), 400)
    assert "approve" in body["detail"]
    body = problem(await api.post(url, json={"action": "transfer", "user": "ghost@example.com"},
                                  headers=rep_headers), 422)
    assert [e["field"] for e in body["errors"]] == ["user"]
    problem(await api.post(url, json={"action": "approve"},
                           headers=rep_headers | {"if-match": '"5"'}), 409)
    # the rep hands it to the boss (by email), who approves it
    moved = await api.post(url, json={"action": "transfer", "user": "BOSS@example.com"},
                           headers=rep_headers)
    assert (moved.status_code, moved.json()["assignee_id"]) == (200, boss), moved.text
    problem(await api.post(url, json={"action": "approve"}, headers=rep_headers), 403)
    response = await api.post(url, json={"action": "approve", "comment": "可以"},
                              headers=boss_headers)
    assert response.status_code == 200, response.text
    done = response.json()
    assert (done["status"], done["outcome"], done["comment"], done["completed_by"]) == (
        "done", "approve", "可以", boss)
    assert (await get(api, "lead", lead["id"]))["grade"] == "checked"
    async with services.database.read() as conn:
        ended = (await conn.execute(select(flow_instances.c.status,
                                           flow_instances.c.outcome))).all()
    assert ended == [("completed", "approved")]


async def test_a_task_with_done_when_closes_itself_when_its_record_meets_it(
        api: httpx.AsyncClient, services: Services) -> None:
    rule = {**FIRST_CALL, "actions": [{**FIRST_CALL["actions"][0],
                                       "done_when": {"==": [{"var": "status"}, "qualified"]}}]}
    await publish(api, {"first_call": rule})
    lead = await post(api, "lead", {"name": "甲", "owner": 1})
    other = await post(api, "lead", {"name": "乙", "owner": 1})

    await patch(api, "lead", lead["id"], {"name": "甲（改名）"})  # not yet met
    assert await tasks_of(api, status="open") == [("首次联系 甲", 1), ("首次联系 乙", 1)]
    await patch(api, "lead", lead["id"], {"status": "qualified"})

    assert await tasks_of(api, status="open") == [("首次联系 乙", 1)]
    done = (await api.get(f"{APP}/tasks", params={"status": "done"})).json()["items"]
    assert [(t["record_id"], t["completed_by"]) for t in done] == [(lead["id"], None)]
    async with services.database.read() as conn:
        pending = (await conn.execute(select(timers.c.task_id).where(
            timers.c.status == "pending"))).scalars().all()
    assert done[0]["id"] not in pending and pending  # its reminders are gone, not others'
    assert other["id"] != lead["id"]


async def test_done_when_is_checked_at_publish(api: httpx.AsyncClient) -> None:
    rule = {**FIRST_CALL, "actions": [{**FIRST_CALL["actions"][0],
                                       "done_when": {"==": [{"var": "stauts"}, "qualified"]}}]}
    response = await api.post("/api/apps", json={"slug": "sales",
                                                 "metadata": sales_app({"first_call": rule})})
    body = problem(response, 422)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("rules.first_call.actions[0].done_when (stauts)", "expr_unknown_field")]
