"""Stage paths, the general capability behind the CRM's sales SOP, in an app that is not a
CRM (a repair shop) on both databases: the options of a select field carry what to do,
the key fields and conditions to meet before a record moves past them, and a time limit.
The write pipeline refuses a move past unmet requirements (all of them named, in the
reader's language), keeps when each stage was entered and left, the worker reminds the
owner once per overstayed stay, readers get the path with the record and the form, and
the publish refuses a stage SOP that names what does not exist."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fixture_kit import delete_read, patch_read, person, problem_of
from sqlalchemy import select

from loom.platform.clock import FixedClock
from loom.platform.records import stage_reminders
from loom.platform.services import Services
from loom.platform.storage.system_tables import notifications, stage_entries
from loom.platform.worker import Worker

JOBS = "/api/apps/repairs/records/job"
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


def _l(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


STATES = [
    {"value": "received", "label": _l("已接收", "Received"), "category": "open",
     "guidance": _l("四小时内完成诊断", "Diagnose within four hours"),
     "key_fields": ["diagnosis"], "time_limit": "PT4H"},
    {"value": "repairing", "label": _l("维修中", "Repairing"), "category": "open",
     "key_fields": ["cost"], "time_limit": "P2D",
     "key_conditions": [{"label": _l("已登记的备件", "a part used"), "condition": {
         "related": {"entity": "part", "via": "job", "agg": "exists"}}}]},
    {"value": "delivered", "label": _l("已交付", "Delivered"), "category": "resolved"},
    {"value": "cancelled", "label": _l("已取消", "Cancelled"), "category": "lost",
     "key_fields": ["cancel_reason"]},
]
REPAIRS: dict[str, Any] = {
    "app": {"label": _l("维修", "Repairs")},
    "entities": {
        "job": {"label": _l("维修单", "Repair job"), "title_field": "title",
                "owner_field": "technician", "fields": {
                    "title": {"type": "text"},
                    "technician": {"type": "user"},
                    "diagnosis": {"type": "textarea", "label": _l("诊断", "Diagnosis")},
                    "cost": {"type": "currency", "label": _l("费用", "Cost")},
                    "cancel_reason": {"type": "text", "label": _l("取消原因", "Cancel reason")},
                    "state": {"type": "select", "label": _l("进度", "Progress"),
                              "default": "received", "options": STATES}}},
        "part": {"label": _l("备件", "Part"), "fields": {
            "job": {"type": "lookup", "ref": "job", "on_delete": "cascade"},
            "name": {"type": "text"}}}},
    "forms": {"job": {"entity": "job", "label": _l("维修单", "Repair job"), "sections": [
        {"name": "main", "fields": ["title", "state", "diagnosis", "cost"]}]}},
    "roles": {"clerk": {"permissions": {"job": {"create": True, "read": "all",
                                                "update": "all",
                                                "fields": {"cost": "hidden"}}}}},
}


async def _app(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/apps", json={"slug": "repairs", "metadata": REPAIRS})
    assert created.status_code == 201, created.text


async def _job(api: httpx.AsyncClient, **values: Any) -> dict[str, Any]:
    response = await api.post(JOBS, json={"title": "空调不制冷", **values})
    assert response.status_code == 201, response.text
    return response.json()


async def _patch(api: httpx.AsyncClient, job: dict[str, Any], values: dict[str, Any],
                 language: str = "en") -> httpx.Response:
    return await patch_read(api, f"{JOBS}/{job['id']}", values,
                            headers={"Accept-Language": language})


def _errors(response: httpx.Response) -> list[tuple[str, str]]:
    return [(e["field"], e["message"]) for e in problem_of(response, 422)["errors"]]


async def test_a_record_moves_past_a_stage_only_when_its_requirements_are_met(
        api: httpx.AsyncClient) -> None:
    await _app(api)
    direct = await api.post(JOBS, json={"title": "洗衣机漏水", "state": "repairing"},
                            headers={"Accept-Language": "en"})
    assert _errors(direct) == [("diagnosis", "Fill in Diagnosis before leaving Received")]
    job = await _job(api)

    # every requirement of every stage passed over, at once
    assert _errors(await _patch(api, job, {"state": "delivered"})) == [
        ("diagnosis", "Fill in Diagnosis before leaving Received"),
        ("cost", "Fill in Cost before leaving Repairing"),
        ("state", "Leaving Repairing needs a part used")]
    assert _errors(await _patch(api, job, {"state": "delivered"}, "zh-CN")) == [
        ("diagnosis", "填写诊断后才能离开已接收阶段"), ("cost", "填写费用后才能离开维修中阶段"),
        ("state", "需要已登记的备件才能离开维修中阶段")]

    assert (await _patch(api, job, {"state": "repairing", "diagnosis": "压缩机故障"})
            ).status_code == 200
    part = await api.post("/api/apps/repairs/records/part", json={"job": job["id"],
                                                                  "name": "压缩机"})
    assert part.status_code == 201, part.text
    delivered = await _patch(api, job, {"state": "delivered", "cost": 860})
    assert delivered.status_code == 200, delivered.text
    # a lost stage passes over nothing, but has its own requirement to enter it
    assert _errors(await _patch(api, job, {"state": "cancelled"})) == [
        ("cancel_reason", "Fill in Cancel reason before moving to Cancelled")]
    # staying, only emptying a needed key field is refused
    assert _errors(await _patch(api, job, {"diagnosis": ""})) == [
        ("diagnosis", "Fill in Diagnosis before leaving Received")]
    assert (await _patch(api, job, {"title": "空调不制冷（已修）"})).status_code == 200


async def test_the_owner_is_reminded_once_per_overstayed_stay(
        api: httpx.AsyncClient, services: Services, clock: FixedClock) -> None:
    await _app(api)
    tech, _headers = await person(api, services, "tech@example.com", locale="en")
    start = clock.now()
    slow = await _job(api, technician=tech, title="冰箱异响")
    quick = await _job(api, technician=tech, title="电视黑屏")
    worker = Worker(services)

    await worker.run_once(start + 4 * HOUR - MINUTE)
    assert await _titles(services, tech) == []
    clock.set(start + HOUR)
    assert (await _patch(api, quick, {"state": "repairing", "diagnosis": "主板"})
            ).status_code == 200
    report = await worker.run_once(start + 4 * HOUR)
    assert report.done["stages"] == 1
    assert await _titles(services, tech) == [
        ("Repair job '冰箱异响' has been in Received for more than 4 hours",
         "Diagnose within four hours")]
    assert (await worker.run_once(start + 5 * HOUR)).done["stages"] == 0  # once per stay
    assert [e["reminded_at"] - start for e in await _entries(services, slow["id"])] == [
        4 * HOUR]

    # back to an earlier stage is a new stay, with its own reminder
    clock.set(start + 6 * HOUR)
    assert (await _patch(api, quick, {"state": "received"})).status_code == 200
    await worker.run_once(start + 10 * HOUR)
    assert [t for t, _ in await _titles(services, tech)].count(
        "Repair job '电视黑屏' has been in Received for more than 4 hours") == 1
    entries = await _entries(services, quick["id"])
    assert [(e["value"], e["entered_at"] - start, e["left_at"] and e["left_at"] - start,
             e["reminded_at"] is not None) for e in entries] == [
        ("received", timedelta(0), HOUR, False),
        ("repairing", HOUR, 6 * HOUR, False),
        ("received", 6 * HOUR, None, True)]
    assert entries[1]["due_at"] - entries[1]["entered_at"] == timedelta(days=2)

    # a deleted record takes its stage history with it
    assert (await delete_read(api, f"{JOBS}/{quick['id']}")).status_code == 200
    assert await _entries(services, quick["id"]) == []


async def test_a_reminder_that_fails_holds_up_no_other_and_is_tried_again(
        api: httpx.AsyncClient, services: Services, clock: FixedClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    await _app(api)
    tech, _headers = await person(api, services, "tech@example.com", locale="en")
    start = clock.now()
    broken = await _job(api, technician=tech, title="坏的")
    await _job(api, technician=tech, title="好的")
    real = stage_reminders._remind

    async def flaky(conn: Any, runtime: Any, entry: dict[str, Any], as_of: Any) -> None:
        if entry["record_id"] == broken["id"]:
            raise RuntimeError("the notification could not be written")
        await real(conn, runtime, entry, as_of)

    monkeypatch.setattr(stage_reminders, "_remind", flaky)
    assert (await Worker(services).run_once(start + 5 * HOUR)).done["stages"] == 1
    assert [t for t, _ in await _titles(services, tech)] == [
        "Repair job '好的' has been in Received for more than 4 hours"]
    monkeypatch.undo()
    assert (await Worker(services).run_once(start + 6 * HOUR)).done["stages"] == 1
    assert len(await _titles(services, tech)) == 2


async def test_readers_get_the_stage_path_without_what_their_role_hides(
        api: httpx.AsyncClient, services: Services, clock: FixedClock) -> None:
    await _app(api)
    clerk, headers = await person(api, services, "clerk@example.com", locale="en")
    assert (await api.put("/api/apps/repairs/roles/clerk", json={
        "members": ["clerk@example.com"]})).status_code == 200
    job = await _job(api, technician=clerk)
    clock.set(clock.now() + 5 * HOUR)
    assert (await _patch(api, job, {"state": "repairing", "diagnosis": "主板"})
            ).status_code == 200
    headers["Accept-Language"] = "zh-CN"

    seen = await api.get(f"{JOBS}/{job['id']}/related", headers=headers)

    assert seen.status_code == 200, seen.text
    [path] = seen.json()["stages"]
    assert [(s["value"], s["final"], s["key_fields"]) for s in path["stages"]] == [
        ("received", False, [{"name": "diagnosis", "label": "诊断"}]),
        ("repairing", False, []),  # the cost is hidden from the clerk
        ("delivered", True, []),
        ("cancelled", True, [{"name": "cancel_reason", "label": "取消原因"}])]
    current = path["current"]
    assert (current["value"], current["overdue"], current["missing"]) == (
        "repairing", False, {"fields": [], "conditions": [{"label": "已登记的备件"}]})
    assert [h["value"] for h in path["history"]] == ["received", "repairing"]
    form = await api.get("/api/apps/repairs/forms/job", headers=headers)
    assert form.json()["stages"][0]["stages"][1]["time_limit_text"] == "2 天"
    # the administrator sees the cost among what the stage needs
    own = (await api.get(f"{JOBS}/{job['id']}/related")).json()["stages"][0]
    assert own["current"]["missing"]["fields"] == [{"name": "cost", "label": "费用"}]


async def test_a_broken_stage_sop_is_refused_at_publish(api: httpx.AsyncClient) -> None:
    api.headers["Accept-Language"] = "en"
    broken = [dict(STATES[0], key_fields=["diagnosys", "state"], time_limit="4 hours"),
              dict(STATES[1], key_fields=["parts"], time_limit="P0D",
                   key_conditions=[{"label": "x", "condition": {"==": [{"var": "kost"}, 1]}}]),
              *STATES[2:]]
    entities = {**REPAIRS["entities"], "job": {**REPAIRS["entities"]["job"], "fields": {
        **REPAIRS["entities"]["job"]["fields"],
        "parts": {"type": "subtable", "entity": "part", "link_field": "job"},
        "tags": {"type": "multiselect", "options": [{"value": "vip", "time_limit": "P1D"}]},
        "state": {**REPAIRS["entities"]["job"]["fields"]["state"], "options": broken}}}}

    response = await api.post("/api/apps", json={"slug": "repairs", "metadata": {
        **REPAIRS, "entities": entities}})

    found = {e["field"]: e["message"] for e in problem_of(response, 422)["errors"]}
    state = "entities.job.fields.state.options"
    assert found[f"{state}[0].key_fields[0]"] == \
        "job has no field 'diagnosys'; did you mean 'diagnosis'?"
    assert found[f"{state}[0].key_fields[1]"] == "'state' is the stage field itself"
    assert "P7D" in found[f"{state}[0].time_limit"]
    assert "no value of its own" in found[f"{state}[1].key_fields[0]"]
    assert "P7D" in found[f"{state}[1].time_limit"]  # zero is no time limit
    assert f"{state}[1].key_conditions[0].condition (kost)" in found
    assert "select field" in found["entities.job.fields.tags.options[0].time_limit"]


async def _titles(services: Services, user_id: int) -> list[tuple[str, str | None]]:
    async with services.database.read() as conn:
        rows = await conn.execute(select(notifications.c.title, notifications.c.body).where(
            notifications.c.user_id == user_id).order_by(notifications.c.id))
        return [tuple(row) for row in rows]


async def _entries(services: Services, record_id: int) -> list[dict[str, Any]]:
    async with services.database.read() as conn:
        rows = await conn.execute(select(stage_entries).where(
            stage_entries.c.entity == "job", stage_entries.c.record_id == record_id)
            .order_by(stage_entries.c.id))
        return [dict(row) for row in rows.mappings()]
