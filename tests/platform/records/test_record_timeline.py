"""A record's activity timeline, in an app that is not a CRM (a help desk) on both
databases: notes marked as activities, field changes, a flow's steps, an email and a
notification merged newest first, in keyset pages that neither repeat nor skip; each
reader sees only what they may (the record within reach, hidden fields left out, notes of
an entity they may not read absent, their own notifications)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import httpx
from fixture_kit import ADMIN_EMAIL, patch_read, person, problem_of

from loom.platform.clock import FixedClock
from loom.platform.services import Services

CASES = "/api/apps/desk/records/case"
NOTES = "/api/apps/desk/records/note"


def _l(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


DESK: dict[str, Any] = {
    "app": {"label": _l("服务台", "Help desk")},
    "entities": {
        "case": {"label": _l("工单", "Case"), "title_field": "subject", "fields": {
            "subject": {"type": "text", "label": _l("主题", "Subject")},
            "status": {"type": "select", "label": _l("状态", "Status"), "default": "open",
                       "options": [{"value": "open", "label": _l("处理中", "Open")},
                                   {"value": "review", "label": _l("审核中", "In review")},
                                   {"value": "escalated", "label": _l("已升级", "Escalated")}]},
            "handler": {"type": "user", "label": _l("处理人", "Handler")},
            "cost": {"type": "currency", "label": _l("费用", "Cost")}}},
        "note": {"label": _l("沟通记录", "Note"), "title_field": "summary",
                 "activity": {"at": "noted_at", "by": "author", "kind": "channel",
                              "text": ["body"]},
                 "fields": {
                     "summary": {"type": "text", "label": _l("摘要", "Summary")},
                     "case": {"type": "lookup", "ref": "case", "on_delete": "cascade"},
                     "channel": {"type": "select", "label": _l("方式", "Channel"),
                                 "options": [{"value": "phone", "label": _l("电话", "Phone")}]},
                     "noted_at": {"type": "datetime", "label": _l("时间", "When")},
                     "author": {"type": "user", "label": _l("记录人", "Author")},
                     "body": {"type": "textarea", "label": _l("内容", "Body")}}}},
    "rules": {"escalated": {
        "entity": "case", "trigger": {"on": "field_change", "fields": ["status"]},
        "condition": {"==": [{"var": "status"}, "escalated"]},
        "actions": [
            {"type": "send_email", "to": [{"kind": "email", "email": "boss@example.com"}],
             "subject": _l("工单已升级", "Case escalated"), "body": _l("请处理", "Please act")},
            {"type": "notify", "to": [{"kind": "field", "field": "handler"}],
             "title": _l("工单已升级", "Case escalated")}]}},
    "flows": {"review": {
        "entity": "case", "label": _l("工单审核", "Case review"),
        "start": {"on": "field_change", "fields": ["status"],
                  "condition": {"==": [{"var": "status"}, "review"]}},
        "nodes": {"check": {"type": "user_task", "label": _l("主管审核", "Lead check"),
                            "assignees": [{"kind": "user", "user": ADMIN_EMAIL}]},
                  "done": {"type": "end"}},
        "edges": [{"from": "start", "to": "check"}, {"from": "check", "to": "done"}]}},
    "roles": {
        "agent": {"permissions": {"case": {"create": True, "read": "all", "update": "all",
                                           "fields": {"cost": "hidden"}},
                                  "note": {"create": True, "read": "all"}}},
        "auditor": {"permissions": {"case": {"read": "all"}}}},
}


async def _desk(api: httpx.AsyncClient, services: Services
                ) -> tuple[dict[str, str], dict[str, str], int]:
    created = await api.post("/api/apps", json={"slug": "desk", "metadata": DESK})
    assert created.status_code == 201, created.text
    agent_id, agent = await person(api, services, "agent@example.com")
    _auditor_id, auditor = await person(api, services, "auditor@example.com")
    for role, email in (("agent", "agent@example.com"), ("auditor", "auditor@example.com")):
        answer = await api.put(f"/api/apps/desk/roles/{role}", json={
            "permissions": DESK["roles"][role]["permissions"], "members": [email]})
        assert answer.status_code == 200, answer.text
    return agent, auditor, agent_id


async def _story(api: httpx.AsyncClient, services: Services,
                 clock: FixedClock) -> tuple[int, dict[str, str], dict[str, str], int]:
    """A case through a day: opened, a note, a cost and a handler, escalated, reviewed."""
    agent, auditor, agent_id = await _desk(api, services)
    case = (await api.post(CASES, json={"subject": "打印机卡纸"})).json()
    url = f"{CASES}/{case['id']}"
    clock.set(clock.now() + timedelta(minutes=5))
    note = await api.post(NOTES, headers=agent, json={
        "summary": "电话确认型号", "case": case["id"], "channel": "phone",
        "noted_at": clock.now().isoformat(), "author": agent_id, "body": "HP M404"})
    assert note.status_code == 201, note.text
    clock.set(clock.now() + timedelta(minutes=5))
    assert (await patch_read(api, url, {"cost": 120, "handler": agent_id})).status_code == 200
    clock.set(clock.now() + timedelta(minutes=5))
    assert (await patch_read(api, url, {"status": "escalated"})).status_code == 200
    clock.set(clock.now() + timedelta(minutes=5))
    assert (await patch_read(api, url, {"status": "review"})).status_code == 200
    return case["id"], agent, auditor, agent_id


async def _all(api: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None,
               **params: Any) -> list[dict[str, Any]]:
    response = await api.get(f"{url}/timeline", params=params,
                             headers={"Accept-Language": "en", **(headers or {})})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_the_timeline_merges_every_source_newest_first(
        api: httpx.AsyncClient, services: Services, clock: FixedClock) -> None:
    case_id, _agent, _auditor, agent_id = await _story(api, services, clock)
    items = await _all(api, f"{CASES}/{case_id}", limit=50)
    moments = [item["at"] for item in items]
    assert moments == sorted(moments, reverse=True)
    types = [item["type"] for item in items]
    assert {"created", "changed", "activity", "email", "notification", "flow"} <= set(types)
    assert types[-1] == "created"
    # one moment: the change to "review", and the flow it started, shown above it
    review = [item["type"] for item in items if item["at"] == items[0]["at"]]
    assert review == ["flow", "flow", "changed"]
    note = next(item for item in items if item["type"] == "activity")
    assert note["title"] == "Note: 电话确认型号" and note["subject"] == "电话确认型号"
    assert note["kind"] == {"value": "phone", "label": "Phone"}
    assert note["by"] == {"id": agent_id, "name": "agent"}
    assert note["text"] == [{"field": "body", "label": "Body", "text": "HP M404"}]
    assert note["entity"] == "note" and note["via"] == "case"
    change = next(item for item in items if item["type"] == "changed"
                  and any(c["field"] == "handler" for c in item["changes"]))
    handler = next(c for c in change["changes"] if c["field"] == "handler")
    assert handler["new"] == agent_id and handler["new_text"] == "agent"
    cost = next(c for c in change["changes"] if c["field"] == "cost")
    assert cost["new_text"] == "¥120.00" and cost["label"] == "Cost"
    assert change["by"]["name"] == "Administrator"
    email = next(item for item in items if item["type"] == "email")
    assert email["subject"] == "工单已升级"  # as it was sent, in the app's language
    assert email["title"] == "Email: 工单已升级" and email["to"] == ["boss@example.com"]
    assert email["status"] == "pending"
    notice = next(item for item in items if item["type"] == "notification")
    assert notice["to"] == {"id": agent_id, "name": "agent"}
    flow = [item for item in items if item["type"] == "flow"]
    assert [f["event"] for f in flow] == ["task", "started"]
    assert flow[0]["title"] == "Case review: waiting for a decision (Lead check)"
    assert flow[0]["assignee"]["name"] == "Administrator"
    assert flow[1]["flow"]["label"] == "Case review"
    zh = (await api.get(f"{CASES}/{case_id}/timeline", params={"limit": 50},
                        headers={"Accept-Language": "zh-CN"})).json()["items"]
    assert next(i for i in zh if i["type"] == "activity")["title"] == "沟通记录：电话确认型号"
    assert next(i for i in zh if i["type"] == "created")["title"] == "创建了记录"


async def test_the_record_page_reads_flows_and_related_lists_by_name(
        api: httpx.AsyncClient, services: Services, clock: FixedClock) -> None:
    case_id, _agent, _auditor, agent_id = await _story(api, services, clock)
    english = {"Accept-Language": "en"}
    flows = (await api.get("/api/apps/desk/flow-instances", headers=english,
                           params={"entity": "case", "record": case_id})).json()["items"]
    [running] = flows
    assert running["label"] == "Case review" and running["status"] == "running"
    assert running["waiting"] == [{"node": "check", "label": "Lead check"}]
    assert running["open_tasks"][0]["assignee_name"] == "Administrator"
    related = (await api.get(f"{CASES}/{case_id}/related", headers=english)).json()
    [notes] = related["related"]
    assert notes["titles"]["@user"] == {str(agent_id): "agent"}


async def test_pages_neither_repeat_nor_skip(api: httpx.AsyncClient, services: Services,
                                             clock: FixedClock) -> None:
    case_id, *_ = await _story(api, services, clock)
    url = f"{CASES}/{case_id}"
    # several entries of one moment, from different sources: the cursor keeps each's place
    for n in range(4):
        await api.post(NOTES, json={"summary": f"同刻记录{n}", "case": case_id,
                                    "noted_at": clock.now().isoformat()})
    whole = [item["id"] for item in await _all(api, url, limit=100)]
    paged: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await api.get(f"{url}/timeline", params=params)).json()
        assert len(body["items"]) <= 2
        paged += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert paged == whole and len(set(whole)) == len(whole) > 10


async def test_each_reader_sees_only_what_they_may(api: httpx.AsyncClient,
                                                   services: Services,
                                                   clock: FixedClock) -> None:
    case_id, agent, auditor, _agent_id = await _story(api, services, clock)
    url = f"{CASES}/{case_id}"
    mine = await _all(api, url, headers=agent, limit=50)
    fields = {c["field"] for item in mine for c in item.get("changes", [])}
    assert "cost" not in fields and "handler" in fields  # cost is hidden from agents
    assert [i["type"] for i in mine].count("notification") == 1  # to the agent: theirs
    # the auditor may not read notes: no activities; the notification was not to them
    theirs = await _all(api, url, headers=auditor, limit=50)
    assert {i["type"] for i in theirs} == {"created", "changed", "flow", "email"}
    # a change of nothing but hidden fields is no entry for them
    await patch_read(api, url, {"cost": 150})
    assert len(await _all(api, url, headers=agent, limit=50)) == len(mine)
    stranger_id, stranger = await person(api, services, "stranger@example.com")
    assert stranger_id
    problem_of(await api.get(f"{url}/timeline", headers=stranger), 403)
    problem_of(await api.get(f"{CASES}/999999/timeline"), 404)


async def test_bad_parameters_are_problems(api: httpx.AsyncClient, services: Services,
                                           clock: FixedClock) -> None:
    case_id, *_ = await _story(api, services, clock)
    url = f"{CASES}/{case_id}/timeline"
    problem_of(await api.get(url, params={"limit": 0}), 400)
    problem_of(await api.get(url, params={"limit": 101}), 400)
    def encoded(positions: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(positions).encode()).decode().rstrip("=")

    cursors = ["nonsense", encoded({"x": 1}), encoded({"history": ["a", 1]}),
               encoded({"history": ["2026-11-02T01:30:00Z", 10**30]}),
               encoded({"history": ["2026-11-02T01:30:00Z", True]}),
               encoded({"activity:note.case": 5}), encoded([1, 2]),
               base64.urlsafe_b64encode(b"[" * 3000).decode()]
    for cursor in cursors:
        body = problem_of(await api.get(url, params={"cursor": cursor},
                                        headers={"Accept-Language": "en"}), 400)
        assert "cursor" in body["detail"]
