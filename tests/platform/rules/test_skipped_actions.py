"""An email or notification with nobody to address does nothing and says so: its trace
entry is ``skipped`` with the reason ``no_recipient`` (in words, in the reader's language),
a firing whose every action was skipped is ``skipped``, and a flow's action node records
the same in its history — on both databases."""

from __future__ import annotations

import httpx
from rules_api import APP, flow_on_a_lead, post, publish, user
from sqlalchemy import select

from loom.platform.services import Services
from loom.platform.storage.system_tables import notifications, outbox

TO_OWNER = [{"kind": "owner"}]
MAIL = {"type": "send_email", "to": TO_OWNER, "subject": "新线索 {{ name }}", "body": "请跟进"}
NOTE = {"type": "notify", "to": TO_OWNER, "title": "新线索 {{ name }}"}
RULES = {
    "tell_owner": {"entity": "lead", "trigger": {"on": "create"}, "actions": [MAIL, NOTE]},
    "tell_boss": {"entity": "lead", "trigger": {"on": "create"}, "actions": [
        MAIL, {"type": "notify", "to": [{"kind": "user", "user": "boss@example.com"}],
               "title": "公海新线索 {{ name }}"}]},
}
SKIPPED = {"status": "skipped", "reason": "no_recipient"}


async def runs(api: httpx.AsyncClient, **headers: str) -> dict[str, dict]:
    response = await api.get(f"{APP}/rule-runs", headers=headers)
    assert response.status_code == 200, response.text
    return {run["rule"]: run for run in response.json()["items"]}


async def test_an_action_with_no_recipient_is_skipped(api: httpx.AsyncClient,
                                                      services: Services) -> None:
    boss = await user(api, "boss@example.com")
    await publish(api, RULES)
    await post(api, "lead", {"name": "无主线索"})  # in the pool: no owner to tell
    found = await runs(api)
    owner_run, boss_run = found["tell_owner"], found["tell_boss"]
    # nothing happened at all: the firing itself is skipped
    assert owner_run["status"] == "skipped"
    assert [(a["type"], a["to"], a["status"], a["reason"], a["reason_text"])
            for a in owner_run["actions"]] == [
        ("send_email", [], "skipped", "no_recipient", "没有收件人"),
        ("notify", [], "skipped", "no_recipient", "没有收件人")]
    # one action did its work: the firing is done, the email alone skipped
    assert boss_run["status"] == "done"
    assert boss_run["actions"][0]["status"] == "skipped"
    assert boss_run["actions"][1]["to"] == [boss] and "status" not in boss_run["actions"][1]
    english = await runs(api, **{"Accept-Language": "en"})
    assert english["tell_owner"]["actions"][0]["reason_text"] == "no recipient"
    async with services.database.read() as conn:
        assert (await conn.execute(select(outbox))).all() == []
        assert (await conn.execute(select(notifications.c.user_id))).scalars().all() == [boss]
    # with an owner, the same rule does its work
    await post(api, "lead", {"name": "有主线索", "owner": 1})
    latest = (await api.get(f"{APP}/rule-runs", params={"rule": "tell_owner"})).json()
    assert latest["items"][0]["status"] == "done"
    assert [a.get("status") for a in latest["items"][0]["actions"]] == [None, None]
    async with services.database.read() as conn:
        mails = (await conn.execute(select(outbox.c.payload))).scalars().all()
    assert [(m["to"], m["subject"]) for m in mails] == [
        (["admin@example.com"], "新线索 有主线索")] * 2  # one per rule


async def test_a_flow_action_with_no_recipient_is_skipped(api: httpx.AsyncClient) -> None:
    started = await flow_on_a_lead(api, {"entity": "lead", "nodes": {
        "tell": {"type": "action", "actions": [MAIL, NOTE]},
        "done": {"type": "end"}},
        "edges": [{"from": "start", "to": "tell"}, {"from": "tell", "to": "done"}]},
        "无主线索")
    [step] = [h for h in started["history"] if h["event"] == "action"]
    assert [{k: a[k] for k in ("type", "status", "reason")} for a in step["details"]["actions"]
            ] == [{"type": "send_email", **SKIPPED}, {"type": "notify", **SKIPPED}]
