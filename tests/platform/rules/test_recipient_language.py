"""What people receive is in their own language, on both databases: the same rule's
notification, task and email reach a Chinese and an English reader each in theirs, values
shown as people read them (option labels, names, titles, local times, money); a flow's
task and its copy likewise. The request's Accept-Language overrides the saved language;
a user changes theirs with PATCH /api/me, and what they already received follows."""

from __future__ import annotations

import httpx
from fixture_kit import problem_of
from rules_api import APP, RECORDS, flow_on_a_lead, post
from rules_app import sales_app
from sqlalchemy import select

from loom.platform.security.tokens import issue_token
from loom.platform.services import Services
from loom.platform.storage.system_tables import notifications, outbox

TEXTS = {
    "title": {"zh-CN": "新线索：{{ name }}（{{ region }}）",
              "en": "New lead: {{ name }} ({{ region }})"},
    "body": {"zh-CN": "负责人：{{ owner }}，团队：{{ team }}，会面：{{ meeting_at }}",
             "en": "Owner: {{ owner }}, team: {{ team }}, meeting: {{ meeting_at }}"},
}
READERS = [{"kind": "user", "user": "wang@example.com"},
           {"kind": "user", "user": "sam@example.com"}]
ANNOUNCE = {
    "entity": "lead", "trigger": {"on": "create"},
    "actions": [
        {"type": "notify", "to": READERS, **TEXTS},
        *[{"type": "create_task", "assignee": reader, "title": TEXTS["title"]}
          for reader in READERS],
        {"type": "send_email", "to": [*READERS, {"kind": "email", "email": "guest@example.com"}],
         "subject": TEXTS["title"], "body": TEXTS["body"]}]}
FLOW = {"entity": "lead", "nodes": {
    "review": {"type": "user_task", "label": {"zh-CN": "审核线索", "en": "Review the lead"},
               "assignees": [{"kind": "user", "user": "sam@example.com"}],
               "cc": [{"kind": "user", "user": "wang@example.com"}]},
    "done": {"type": "end"}},
    "edges": [{"from": "start", "to": "review"},
              {"from": "review", "to": "done", "outcome": "approve"}]}


async def reader(api: httpx.AsyncClient, services: Services, email: str,
                 locale: str) -> dict[str, str]:
    """A user who chose a language, and the headers that authenticate them."""
    created = await api.post("/api/users", json={"email": email, "name": email.split("@")[0],
                                                 "locale": locale})
    assert created.status_code == 201, created.text
    async with services.database.write() as conn:
        token = await issue_token(conn, created.json()["id"], services.clock)
    return {"Authorization": f"Bearer {token}"}


async def inbox(api: httpx.AsyncClient, who: dict[str, str],
                **headers: str) -> list[tuple[str, str | None]]:
    response = await api.get("/api/notifications", headers={**who, **headers})
    assert response.status_code == 200, response.text
    return [(n["title"], n["body"]) for n in response.json()["items"]]


async def task_titles(api: httpx.AsyncClient, who: dict[str, str], **headers: str) -> list[str]:
    response = await api.get(f"{APP}/tasks", params={"assignee": "me"},
                             headers={**who, **headers})
    assert response.status_code == 200, response.text
    return [t["title"] for t in response.json()["items"]]


async def test_each_recipient_reads_the_rule_in_their_language(
        api: httpx.AsyncClient, services: Services) -> None:
    wang = await reader(api, services, "wang@example.com", "zh-CN")
    sam = await reader(api, services, "sam@example.com", "en")
    doc = sales_app({"announce": ANNOUNCE})
    assert (await api.post("/api/apps", json={"slug": "sales", "metadata": doc})
            ).status_code == 201
    team = await post(api, "team", {"code": "E1", "name": "东区一组"})
    await post(api, "lead", {"name": "张三", "region": "east_china", "team": team["id"],
                             "owner": 1, "meeting_at": "2026-11-03T02:00:00Z"})
    # one rule, each reader in their own language; the select shows its label, the user
    # their name, the lookup its record's title, the time in the app's zone (Shanghai)
    zh = ("新线索：张三（华东区）", "负责人：Administrator，团队：东区一组，会面：2026-11-03 10:00")
    en = ("New lead: 张三 (East China)",
          "Owner: Administrator, team: 东区一组, meeting: 2026-11-03 10:00")
    assert await inbox(api, wang) == [zh]
    assert await inbox(api, sam) == [en]
    assert await task_titles(api, wang) == [zh[0]]
    assert await task_titles(api, sam) == [en[0]]
    # the request's language wins over the saved one (an API reader asking for English)
    assert await inbox(api, wang, **{"Accept-Language": "en-US,en;q=0.9"}) == [en]
    assert await task_titles(api, wang, **{"Accept-Language": "en"}) == [en[0]]
    # a header naming neither language leaves the saved one
    assert await inbox(api, sam, **{"Accept-Language": "fr"}) == [en]
    # the stored rows hold the text as each recipient read it when it arrived
    async with services.database.read() as conn:
        rows = (await conn.execute(select(notifications.c.title).order_by(
            notifications.c.user_id))).scalars().all()
        mails = (await conn.execute(select(outbox.c.idempotency_key, outbox.c.payload)
                                    .order_by(outbox.c.id))).all()
    assert sorted(rows) == sorted([zh[0], en[0]])
    # one email per language: the address that is nobody's gets the app's language
    letters = {tuple(payload["to"]): payload for _key, payload in mails}
    assert set(letters) == {("guest@example.com", "wang@example.com"), ("sam@example.com",)}
    assert letters[("sam@example.com",)]["subject"] == en[0]
    assert letters[("sam@example.com",)]["text"] == en[1]
    assert letters[("guest@example.com", "wang@example.com")]["text"] == zh[1]
    assert len({key for key, _payload in mails}) == 2

    # Sam switches to Chinese: what he already received follows his new choice
    changed = await api.patch("/api/me", json={"locale": "zh-CN"}, headers=sam)
    assert changed.status_code == 200, changed.text
    assert changed.json()["locale"] == "zh-CN"
    me = await api.get("/api/me", headers=sam)
    assert (me.json()["email"], me.json()["locale"]) == ("sam@example.com", "zh-CN")
    assert await inbox(api, sam) == [zh]
    assert await task_titles(api, sam) == [zh[0]]
    # null: no saved language — the request's, else Chinese
    cleared = await api.patch("/api/me", json={"locale": None}, headers=sam)
    assert cleared.json()["locale"] is None
    assert await inbox(api, sam, **{"Accept-Language": "en"}) == [en]


async def test_a_flow_task_and_its_copy_in_each_language(
        api: httpx.AsyncClient, services: Services) -> None:
    wang = await reader(api, services, "wang@example.com", "zh-CN")
    sam = await reader(api, services, "sam@example.com", "en")
    started = await flow_on_a_lead(api, FLOW, "李四")
    assert [t["title"] for t in started["open_tasks"]] == ["审核线索"]
    english = await api.get(f"{APP}/flow-instances/{started['id']}",
                            headers={"Accept-Language": "en"})
    assert [t["title"] for t in english.json()["open_tasks"]] == ["Review the lead"]
    assert await task_titles(api, sam) == ["Review the lead"]
    assert await inbox(api, wang) == [("抄送：审核线索", None)]
    assert await task_titles(api, wang) == ["抄送：审核线索"]
    assert await task_titles(api, wang, **{"Accept-Language": "en"}) == ["CC: Review the lead"]
    [task] = (await api.get(f"{APP}/tasks", params={"assignee": "me"},
                            headers=sam)).json()["items"]
    one = await api.get(f"{APP}/tasks/{task['id']}", headers=sam)
    assert one.json()["task"]["title"] == "Review the lead"
    done = await api.post(f"{APP}/tasks/{task['id']}/actions", json={"action": "approve"},
                          headers=sam)
    assert (done.status_code, done.json()["title"]) == (200, "Review the lead"), done.text


async def test_a_language_loom_does_not_speak_is_refused(
        api: httpx.AsyncClient, services: Services) -> None:
    sam = await reader(api, services, "sam@example.com", "en")
    body = problem_of(await api.patch("/api/me", json={"locale": "fr"}, headers=sam), 422)
    assert body["detail"] == "The user was not changed"  # in Sam's saved language
    assert [e["field"] for e in body["errors"]] == ["locale"]
    assert body["errors"][0]["message"] == "The language must be one of: zh-CN, en"
    # nobody changes their own rights this way
    problem_of(await api.patch("/api/me", json={"is_admin": True}, headers=sam), 422)
    me = (await api.get("/api/me", headers=sam)).json()
    assert (me["locale"], me["is_admin"]) == ("en", False)
    # refusals follow the saved language too, and the request's over it
    assert (await api.post("/api/apps", json={"slug": "sales", "metadata": sales_app({})})
            ).status_code == 201
    await api.put(f"{APP}/roles/reader", json={"permissions": {"lead": {"read": "all"}},
                                                "members": ["sam@example.com"]})
    missing = problem_of(await api.get(f"{RECORDS}/lead/999", headers=sam), 404)
    assert missing["detail"] == "There is no Lead with id 999"
    missing = problem_of(await api.get(f"{RECORDS}/lead/999",
                                    headers={**sam, "Accept-Language": "zh-CN"}), 404)
    assert missing["detail"] == "不存在 id 为 999 的线索"
