"""Record actions (buttons) through the public API on both databases: claiming a lead from
the pool and releasing it, the refusals (not available, stale, unknown, not permitted), and
two people claiming the same lead at the same moment."""

from __future__ import annotations

import asyncio

import httpx
from rules_api import APP, RECORDS, counts, get, person, post, problem, publish
from rules_app import sales_app
from sqlalchemy import select

from loom.platform.services import Services
from loom.platform.storage.system_tables import rule_runs, tasks


def action(lead_id: int, name: str) -> str:
    return f"{RECORDS}/lead/{lead_id}/actions/{name}"


async def test_claim_and_release(api: httpx.AsyncClient, services: Services) -> None:
    await publish(api, {})
    lead = await post(api, "lead", {"name": "张三", "tags": ["hot", "vip"]})
    response = await api.post(action(lead["id"], "claim"))
    assert response.status_code == 200, response.text
    claimed = response.json()
    assert (claimed["owner"], claimed["version"]) == (1, 2)
    assert response.headers["etag"] == '"2"'
    assert claimed == await get(api, "lead", lead["id"])
    async with services.database.read() as conn:
        runs = (await conn.execute(select(rule_runs))).mappings().all()
        todo = (await conn.execute(select(tasks))).mappings().all()
    assert [(r["rule"], r["trigger"], r["record_id"]) for r in runs] == [
        ("claim", "action", lead["id"])]
    assert runs[0]["inputs"] == {"owner": None}
    assert [a["type"] for a in runs[0]["actions"]] == ["set_field", "create_task"]
    assert [(t["title"], t["assignee_id"], t["record_id"]) for t in todo] == [
        ("跟进 张三", 1, lead["id"])]
    # claimed: claiming again is refused, in the reader's language
    # (the app labels no owner field: its name stands in)
    body = problem(await api.post(action(lead["id"], "claim")), 409)
    assert body["detail"] == "该记录当前不能执行“领取”：owner必须为空"
    assert body["errors"] == [{"field": None, "message": "owner必须为空",
                               "code": "action_not_available"}]
    body = problem(await api.post(action(lead["id"], "claim"),
                                  headers={"accept-language": "en"}), 409)
    assert body["detail"] == "Claim is not available for this record: owner must be blank"
    # the owner releases it back to the pool
    released = (await api.post(action(lead["id"], "release"))).json()
    assert (released["owner"], released["tags"], released["version"]) == (None, ["vip"], 3)
    history = (await api.get(f"{RECORDS}/lead/{lead['id']}/history")).json()["items"]
    assert [(h["source"], h["changes"].get("owner")) for h in history] == [
        ("api", None), ("rule", [None, 1]), ("rule", [1, None])]


async def test_refused_actions(api: httpx.AsyncClient, services: Services) -> None:
    await publish(api, {})
    lead = await post(api, "lead", {"name": "李四"})
    before = await counts(services)
    problem(await api.post(action(lead["id"], "claim"), headers={"if-match": '"7"'}), 409)
    body = problem(await api.post(action(lead["id"], "steal"),
                                  headers={"accept-language": "en"}), 404)
    assert body["detail"] == "Lead has no action 'steal'"
    problem(await api.post(action(999999, "claim")), 404)
    problem(await api.post(f"{RECORDS}/leed/{lead['id']}/actions/claim"), 404)
    problem(await api.post(f"{APP}x/records/lead/{lead['id']}/actions/claim"), 404)
    _rep, headers = await person(api, services, "rep@example.com")
    problem(await api.post(action(lead["id"], "claim"), headers=headers), 403)
    assert await get(api, "lead", lead["id"]) == lead
    assert await counts(services) == before
    # with the version the caller read, it runs
    response = await api.post(action(lead["id"], "claim"), headers={"if-match": '"1"'})
    assert response.status_code == 200, response.text


async def test_concurrent_claims_have_one_winner(api: httpx.AsyncClient,
                                                 services: Services) -> None:
    await publish(api, {})
    first, first_headers = await person(api, services, "a@example.com", is_admin=True)
    second, second_headers = await person(api, services, "b@example.com", is_admin=True)
    leads = [await post(api, "lead", {"name": f"线索{n}"}) for n in range(4)]
    for lead in leads:
        responses = await asyncio.gather(
            api.post(action(lead["id"], "claim"), headers=first_headers),
            api.post(action(lead["id"], "claim"), headers=second_headers))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 409], [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200).json()["owner"]
        assert winner in (first, second)
        stored = await get(api, "lead", lead["id"])
        assert (stored["owner"], stored["version"]) == (winner, 2)
        # the loser is told who got there first
        loser = next(r for r in responses if r.status_code == 409).json()
        assert loser["errors"][0]["code"] == "changed_first"
        assert loser["changed_by"]["id"] == winner
    # one trace and one follow-up task per lead: the loser left nothing
    async with services.database.read() as conn:
        runs = (await conn.execute(select(rule_runs.c.record_id))).scalars().all()
        todo = (await conn.execute(select(tasks.c.record_id, tasks.c.assignee_id))).all()
    assert sorted(runs) == [lead["id"] for lead in leads]
    assert sorted(record for record, _ in todo) == [lead["id"] for lead in leads]
    for lead in leads:
        owner = (await get(api, "lead", lead["id"]))["owner"]
        assert (lead["id"], owner) in todo


async def test_an_action_may_say_why_in_its_own_words(api: httpx.AsyncClient) -> None:
    doc = sales_app({})
    doc["entities"]["lead"]["actions"]["claim"]["unavailable_message"] = {
        "zh-CN": "这条线索已有负责人，请联系其负责人", "en": "Someone already works this lead"}
    assert (await api.post("/api/apps", json={"slug": "sales", "metadata": doc})
            ).status_code == 201
    lead = await post(api, "lead", {"name": "王五", "owner": 1})
    body = problem(await api.post(action(lead["id"], "claim"),
                                  headers={"accept-language": "en"}), 409)
    assert body["detail"] == ("Claim is not available for this record: Someone already "
                              "works this lead")
    assert body["errors"][0]["message"] == "Someone already works this lead"
    body = problem(await api.post(action(lead["id"], "claim")), 409)
    assert body["errors"][0]["message"] == "这条线索已有负责人，请联系其负责人"
    related = (await api.get(f"{RECORDS}/lead/{lead['id']}/related")).json()
    assert related["actions"] == [
        {"name": "claim", "label": "领取", "available": False,
         "reason": "这条线索已有负责人，请联系其负责人"},
        {"name": "release", "label": "退回公海", "available": True}]
