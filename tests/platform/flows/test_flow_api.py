"""Flows through the public API: start by hand, the assignee's inbox, approve with a comment,
a countersign, the instance's history, stale commands, withdrawal."""

from __future__ import annotations

from typing import Any

import httpx

from loom.platform.security.tokens import issue_token
from loom.platform.services import Services

APP = "/api/apps/review"
DOC: dict[str, Any] = {
    "app": {"label": {"zh-CN": "审阅", "en": "Review"}},
    "entities": {"doc": {"label": {"zh-CN": "文档", "en": "Document"}, "fields": {
        "title": {"type": "text"}}}},
    "flows": {"review": {
        "entity": "doc",
        "nodes": {
            "read": {"type": "user_task", "label": {"zh-CN": "审阅", "en": "Read"},
                     "assignees": [{"kind": "user", "user": "reader@example.com"}]},
            "sign": {"type": "user_task", "label": {"zh-CN": "会签", "en": "Sign"},
                     "mode": "all", "assignees": [{"kind": "user", "user": "a@example.com"},
                                                  {"kind": "user", "user": "b@example.com"}]},
            "done": {"type": "end", "outcome": "approved"}},
        "edges": [{"from": "start", "to": "read"},
                  {"from": "read", "to": "sign", "outcome": "approve"},
                  {"from": "sign", "to": "done", "outcome": "approve"}]}},
}


async def _as(api: httpx.AsyncClient, services: Services, email: str) -> dict[str, str]:
    response = await api.post("/api/users", json={"email": email, "name": email[:1],
                                                  "password": "long-password-1"})
    assert response.status_code == 201, response.text
    async with services.database.write() as conn:
        token = await issue_token(conn, response.json()["id"], services.clock)
    return {"Authorization": f"Bearer {token}"}


async def _my_task(api: httpx.AsyncClient, who: dict[str, str]) -> dict[str, Any]:
    response = await api.get(f"{APP}/tasks", params={"assignee": "me", "status": "open"},
                             headers=who)
    assert response.status_code == 200, response.text
    [task] = response.json()["items"]
    return task


async def test_a_review_from_start_to_end(api: httpx.AsyncClient, services: Services) -> None:
    reader = await _as(api, services, "reader@example.com")
    a, b = (await _as(api, services, "a@example.com"), await _as(api, services, "b@example.com"))
    assert (await api.post("/api/apps", json={"slug": "review", "metadata": DOC})
            ).status_code == 201
    record = (await api.post(f"{APP}/records/doc", json={"title": "合同范本"})).json()
    started = await api.post(f"{APP}/flow-instances", json={"flow": "review",
                                                            "record_id": record["id"]})
    assert started.status_code == 201, started.text
    instance = started.json()
    assert (instance["status"], instance["waiting_at"]) == ("running", ["read"])

    task = await _my_task(api, reader)
    assert task["title"] == "审阅"
    done = await api.post(f"{APP}/tasks/{task['id']}/actions",
                          json={"action": "approve", "comment": "没问题"}, headers=reader)
    assert done.status_code == 200, done.text
    again = await api.post(f"{APP}/tasks/{task['id']}/actions", json={"action": "approve"},
                           headers=reader)
    assert again.status_code == 409, again.text  # a double click changes nothing

    listed = (await api.get(f"{APP}/flow-instances",
                            params={"entity": "doc", "record": record["id"]})).json()["items"]
    assert listed[0]["waiting_at"] == ["sign"]
    assert len(listed[0]["open_tasks"]) == 2
    for who in (a, b):
        signing = await _my_task(api, who)
        response = await api.post(f"{APP}/tasks/{signing['id']}/actions",
                                  json={"action": "approve"}, headers=who)
        assert response.status_code == 200, response.text
    ended = (await api.get(f"{APP}/flow-instances/{instance['id']}")).json()
    assert (ended["status"], ended["outcome"], ended["open_tasks"]) == ("completed",
                                                                         "approved", [])
    events = [(h["event"], h["comment"]) for h in ended["history"]
              if h["event"] not in ("task", "reached")]
    assert events == [("started", None), ("approve", "没问题"), ("approve", None),
                      ("approve", None), ("completed", None)]


async def test_withdraw_and_wrong_requests(api: httpx.AsyncClient, services: Services) -> None:
    await _as(api, services, "reader@example.com")
    assert (await api.post("/api/apps", json={"slug": "review", "metadata": DOC})
            ).status_code == 201
    record = (await api.post(f"{APP}/records/doc", json={"title": "t"})).json()
    body = {"flow": "review", "record_id": record["id"]}
    instance = (await api.post(f"{APP}/flow-instances", json=body)).json()
    twice = await api.post(f"{APP}/flow-instances", json=body, headers={"accept-language": "en"})
    assert twice.status_code == 409 and "already running" in twice.json()["detail"]
    unknown = await api.post(f"{APP}/flow-instances", json={**body, "flow": "nope"})
    assert unknown.status_code == 404
    withdrawn = await api.post(f"{APP}/flow-instances/{instance['id']}/withdraw",
                               json={"comment": "发错了"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["status"], withdrawn.json()["open_tasks"]) == ("withdrawn", [])
    assert (await api.post(f"{APP}/flow-instances/{instance['id']}/withdraw")
            ).status_code == 409
    assert (await api.get(f"{APP}/flow-instances/999999")).status_code == 404
