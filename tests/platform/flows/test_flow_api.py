"""Flows through the public API: start by hand, the assignee's inbox, approve with a comment,
a countersign, the instance's history, stale commands, withdrawal."""

from __future__ import annotations

import copy
from typing import Any

import httpx
from fixture_kit import patch_read

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


async def test_an_incident_is_visible_and_retried_by_an_admin(
        api: httpx.AsyncClient, services: Services) -> None:
    doc = {**DOC, "flows": {"review": {
        "entity": "doc",
        "nodes": {"stamp": {"type": "action", "retry": {"max": 0},
                            "actions": [{"type": "set_field", "field": "title",
                                         "value": {"cat": ["x", {"var": "title"}]}},
                                        {"type": "create_record", "entity": "doc",
                                         "values": {"title": {"var": "missing_in_doc"}}}]},
                  "done": {"type": "end"}},
        "edges": [{"from": "start", "to": "stamp"}, {"from": "stamp", "to": "done"}]}}}
    response = await api.post("/api/apps", json={"slug": "review", "metadata": doc})
    assert response.status_code == 422  # the unknown field is caught at publish
    doc["flows"]["review"]["nodes"]["stamp"]["actions"][1]["values"] = {"title": "副本"}
    doc["entities"] = {"doc": {**DOC["entities"]["doc"], "fields": {
        "title": {"type": "text", "max_length": 3}}}}
    assert (await api.post("/api/apps", json={"slug": "review", "metadata": doc})
            ).status_code == 201
    record = (await api.post(f"{APP}/records/doc", json={"title": "abc"})).json()
    started = await api.post(f"{APP}/flow-instances", json={"flow": "review",
                                                            "record_id": record["id"]})
    assert started.status_code == 201, started.text
    [incident] = started.json()["incidents"]
    assert (incident["node"], incident["retrying"]) == ("stamp", False)
    assert "title" in incident["error"]
    # nothing of the failed node stayed: the title is unchanged, no copy was made
    assert (await api.get(f"{APP}/records/doc/{record['id']}")).json()["title"] == "abc"
    assert len((await api.get(f"{APP}/records/doc")).json()["items"]) == 1
    # shorter title: the retry succeeds and the flow ends
    assert (await patch_read(api, f"{APP}/records/doc/{record['id']}", {"title": "a"})
            ).status_code == 200
    retried = await api.post(f"{APP}/flow-instances/{started.json()['id']}/retry")
    assert retried.status_code == 200, retried.text
    assert (retried.json()["retried"], retried.json()["status"]) == (1, "completed")
    assert (await api.get(f"{APP}/records/doc/{record['id']}")).json()["title"] == "xa"


FILL: dict[str, Any] = {
    "app": {"label": "Fill"},
    "entities": {"doc": {"label": {"zh-CN": "文档", "en": "Document"}, "fields": {
        "title": {"type": "text"}, "opinion": {"type": "text", "label": {"zh-CN": "意见",
                                                                         "en": "Opinion"}},
        "amount": {"type": "currency", "label": {"zh-CN": "金额", "en": "Amount"}},
        "margin": {"type": "percent"}}}},
    "flows": {"review": {
        "entity": "doc", "start": {"on": "create"},
        "nodes": {"sign": {"type": "user_task", "label": {"zh-CN": "会签", "en": "Sign"},
                           "mode": "all", "field_permissions": {"opinion": "write",
                                                                "amount": "read",
                                                                "margin": "hidden"},
                           "assignees": [{"kind": "user", "user": "a@example.com"},
                                         {"kind": "user", "user": "b@example.com"}]},
                  "stamp": {"type": "action", "actions": [
                      {"type": "set_field", "field": "title", "value": "signed"}]},
                  "done": {"type": "end", "outcome": "approved"}},
        "edges": [{"from": "start", "to": "sign"},
                  {"from": "sign", "to": "stamp", "outcome": "approve"},
                  {"from": "stamp", "to": "done"}]}},
}


async def test_fill_in_and_a_countersign_at_the_same_moment(
        api: httpx.AsyncClient, services: Services) -> None:
    import asyncio

    a, b = (await _as(api, services, "a@example.com"), await _as(api, services, "b@example.com"))
    assert (await api.post("/api/apps", json={"slug": "review", "metadata": FILL})
            ).status_code == 201
    for round_ in range(3):
        record = (await api.post(f"{APP}/records/doc", json={"title": f"t{round_}"})).json()
        task_a, task_b = await _my_task(api, a), await _my_task(api, b)
        if round_ == 0:  # the step's form: the hidden margin is not shown
            view = await api.get(f"{APP}/tasks/{task_a['id']}", headers=a)
            assert view.status_code == 200, view.text
            assert view.json()["fields"] == {"title": "read", "opinion": "write",
                                             "amount": "read"}
            assert "margin" not in view.json()["record"]
            assert view.json()["record"]["title"] == "t0"
            assert (await api.get(f"{APP}/tasks/{task_a['id']}", headers=b)).status_code == 403
        if round_ == 0:  # only the fields this step makes writable
            refused = await api.post(f"{APP}/tasks/{task_a['id']}/actions", headers={
                **a, "accept-language": "en"}, json={"action": "approve",
                                                     "values": {"amount": 1}})
            assert refused.status_code == 422, refused.text
            assert refused.json()["errors"][0]["message"] == \
                "Amount cannot be changed at this step"
        both = await asyncio.gather(
            api.post(f"{APP}/tasks/{task_a['id']}/actions", headers=a,
                     json={"action": "approve", "values": {"opinion": "同意"}}),
            api.post(f"{APP}/tasks/{task_b['id']}/actions", headers=b,
                     json={"action": "approve"}))
        assert [r.status_code for r in both] == [200, 200], [r.text for r in both]
        doc = (await api.get(f"{APP}/records/doc/{record['id']}")).json()
        assert (doc["opinion"], doc["title"]) == ("同意", "signed")
        [instance] = (await api.get(f"{APP}/flow-instances",
                                    params={"record": record["id"]})).json()["items"]
        assert (instance["status"], instance["outcome"]) == ("completed", "approved")
        stamps = [h for h in instance["history"] if h["event"] == "action"]
        assert len(stamps) == 1  # the node after the countersign ran exactly once


async def test_running_instances_stay_on_their_version(api: httpx.AsyncClient,
                                                       services: Services) -> None:
    reader = await _as(api, services, "reader@example.com")
    await _as(api, services, "a@example.com")
    await _as(api, services, "b@example.com")
    assert (await api.post("/api/apps", json={"slug": "review", "metadata": DOC})
            ).status_code == 201
    record = (await api.post(f"{APP}/records/doc", json={"title": "v1"})).json()
    started = (await api.post(f"{APP}/flow-instances", json={
        "flow": "review", "record_id": record["id"]})).json()
    # version 2 drops the countersign
    v2 = copy.deepcopy(DOC)
    v2["flows"]["review"]["nodes"].pop("sign")
    v2["flows"]["review"]["edges"] = [{"from": "start", "to": "read"},
                                      {"from": "read", "to": "done", "outcome": "approve"}]
    assert (await api.put(f"{APP}/metadata/draft", json=v2)).status_code == 200
    assert (await api.post(f"{APP}/metadata/publish", json={})).status_code == 200
    task = await _my_task(api, reader)
    assert (await api.post(f"{APP}/tasks/{task['id']}/actions", headers=reader,
                           json={"action": "approve"})).status_code == 200
    old = (await api.get(f"{APP}/flow-instances/{started['id']}")).json()
    assert (old["app_version"], old["waiting_at"]) == (1, ["sign"])  # still on version 1
    other = (await api.post(f"{APP}/records/doc", json={"title": "v2"})).json()
    new = (await api.post(f"{APP}/flow-instances", json={
        "flow": "review", "record_id": other["id"]})).json()
    assert new["app_version"] == 2
    task = next(t for t in (await api.get(f"{APP}/tasks", params={
        "assignee": "me", "status": "open"}, headers=reader)).json()["items"])
    await api.post(f"{APP}/tasks/{task['id']}/actions", headers=reader,
                   json={"action": "approve"})
    assert (await api.get(f"{APP}/flow-instances/{new['id']}")).json()["status"] == "completed"


async def test_an_admin_migrates_a_running_instance(api: httpx.AsyncClient,
                                                    services: Services) -> None:
    reader = await _as(api, services, "reader@example.com")
    await _as(api, services, "a@example.com")
    await _as(api, services, "b@example.com")
    assert (await api.post("/api/apps", json={"slug": "review", "metadata": DOC})
            ).status_code == 201
    record = (await api.post(f"{APP}/records/doc", json={"title": "t"})).json()
    started = (await api.post(f"{APP}/flow-instances", json={
        "flow": "review", "record_id": record["id"]})).json()
    # version 2: "read" renamed, the countersign dropped
    v2 = copy.deepcopy(DOC)
    nodes = v2["flows"]["review"]["nodes"]
    nodes["first_read"] = nodes.pop("read")
    nodes.pop("sign")
    v2["flows"]["review"]["edges"] = [{"from": "start", "to": "first_read"},
                                      {"from": "first_read", "to": "done",
                                       "outcome": "approve"}]
    assert (await api.put(f"{APP}/metadata/draft", json=v2)).status_code == 200
    assert (await api.post(f"{APP}/metadata/publish", json={})).status_code == 200
    url = f"{APP}/flow-instances/{started['id']}/migrate"
    unmapped = await api.post(url, json={}, headers={"accept-language": "en"})
    assert unmapped.status_code == 422, unmapped.text
    assert unmapped.json()["errors"][0]["field"] == "mapping.read"
    moved = await api.post(url, json={"mapping": {"read": "first_read"}})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["app_version"], moved.json()["waiting_at"]) == (2, ["first_read"])
    task = await _my_task(api, reader)
    assert (await api.post(f"{APP}/tasks/{task['id']}/actions", headers=reader,
                           json={"action": "approve"})).status_code == 200
    assert (await api.get(f"{APP}/flow-instances/{started['id']}")).json()["status"] == \
        "completed"  # version 2's graph: no countersign any more

    # a started node that would change is refused
    other = (await api.post(f"{APP}/records/doc", json={"title": "u"})).json()
    running = (await api.post(f"{APP}/flow-instances", json={
        "flow": "review", "record_id": other["id"]})).json()
    v3 = copy.deepcopy(v2)
    v3["flows"]["review"]["nodes"]["first_read"]["assignees"] = [
        {"kind": "user", "user": "a@example.com"}]
    assert (await api.put(f"{APP}/metadata/draft", json=v3)).status_code == 200
    assert (await api.post(f"{APP}/metadata/publish", json={})).status_code == 200
    refused = await api.post(f"{APP}/flow-instances/{running['id']}/migrate", json={},
                             headers={"accept-language": "en"})
    assert refused.status_code == 422, refused.text
    assert "has started and would change" in refused.json()["errors"][0]["message"]
