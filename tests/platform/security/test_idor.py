"""Ids are no key: every endpoint that takes an id answers 404 for ids of another
workspace — even when the other workspace has an app of the same name with the same ids —
and for ids of records outside the caller's reach."""

from __future__ import annotations

import httpx
from company import DOC, Company

from loom.platform.security.tokens import issue_token


async def _theirs(company: Company) -> dict[str, int]:
    """What our workspace holds: a record, a running flow with its task, a rule run, a
    notification."""
    admin = company.admin
    record = await company.customer("华为", "boss")
    flow = await admin.post("/api/apps/acct/flow-instances",
                            json={"flow": "review", "record_id": record})
    assert flow.status_code == 201, flow.text
    task = flow.json()["open_tasks"][0]["id"]
    return {"record": record, "flow": flow.json()["id"], "task": task}


async def test_another_workspace_cannot_reach_our_ids(company: Company) -> None:
    ours = await _theirs(company)
    stranger: httpx.AsyncClient = company.clients["stranger"]
    # the stranger is an administrator of their own workspace, with an app of the same name
    made = await stranger.post("/api/apps", json={"slug": "acct", "metadata": DOC})
    assert made.status_code == 201, made.text
    mine = await stranger.post("/api/apps/acct/records/customer", json={"name": "Mine"})
    assert mine.json()["id"] == ours["record"]  # the same id, another table

    got = await stranger.get(f"/api/apps/acct/records/customer/{ours['record']}")
    assert got.json()["name"] == "Mine"
    for method, path, body in (
            ("GET", f"/api/apps/acct/flow-instances/{ours['flow']}", None),
            ("POST", f"/api/apps/acct/flow-instances/{ours['flow']}/withdraw", None),
            ("GET", f"/api/apps/acct/tasks/{ours['task']}", None),
            ("POST", f"/api/apps/acct/tasks/{ours['task']}/actions", {"action": "approve"}),
            ("DELETE", f"/api/apps/acct/records/customer/{ours['record'] + 1}", None),
    ):
        # a change as from a client that read the version: only the id is foreign
        answer = await stranger.request(method, path, json=body, headers={"If-Match": '"1"'})
        assert answer.status_code == 404, (method, path, answer.text)
    runs = await stranger.get("/api/apps/acct/rule-runs")
    assert runs.json()["items"] == []
    their_list = (await stranger.get("/api/apps/acct/flow-instances")).json()["items"]
    assert their_list == []
    # and ours is untouched
    flow = await company.admin.get(f"/api/apps/acct/flow-instances/{ours['flow']}")
    assert flow.json()["status"] == "running"


async def test_a_colleague_cannot_act_on_a_task_that_is_not_theirs(company: Company) -> None:
    ours = await _theirs(company)
    rep = company.clients["rep1"]

    seen = await rep.get(f"/api/apps/acct/tasks/{ours['task']}")
    acted = await rep.post(f"/api/apps/acct/tasks/{ours['task']}/actions",
                           json={"action": "approve"})

    # a colleague of the same workspace is told it is not theirs; nothing happens
    assert seen.status_code == 403 and acted.status_code == 403, acted.text
    task = (await company.admin.get(f"/api/apps/acct/tasks/{ours['task']}")).json()
    assert task["task"]["status"] == "open"


async def test_a_revoked_or_foreign_token_reaches_nothing(company: Company) -> None:
    async with company.services.database.write() as conn:
        token = await issue_token(conn, company.ids["rep1"], company.services.clock, days=None)
    client = company.clients["rep1"]
    client.headers["Authorization"] = "Bearer loom_not-a-token"
    assert (await client.get("/api/apps/acct/records/customer")).status_code == 401
    client.headers["Authorization"] = f"Bearer {token}"
    assert (await client.get("/api/apps/acct/records/customer")).status_code == 200
