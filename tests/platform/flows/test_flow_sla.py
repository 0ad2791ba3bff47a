"""SLA clocks through the public API and the worker, on both databases: targets by priority,
working hours over a weekend, at-risk and breach on time (with the breach action), met late
stays breached, a pause while waiting on the customer, met in time."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fixture_kit import patch_read
from sqlalchemy import select

from loom.platform.services import Services
from loom.platform.storage.system_tables import notifications, users
from loom.platform.worker import Worker

SHANGHAI = ZoneInfo("Asia/Shanghai")
APP = "/api/apps/desk"
STATES = [{"value": v} for v in ("on_track", "at_risk", "breached", "met")]
DOC: dict[str, Any] = {
    "app": {"label": {"zh-CN": "服务台", "en": "Service desk"}, "calendars": {
        "work": {"hours": {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}}}},
    "entities": {"ticket": {"label": {"zh-CN": "工单", "en": "Ticket"}, "fields": {
        "title": {"type": "text"},
        "priority": {"type": "select", "options": [{"value": "p1"}, {"value": "p2"}]},
        "status": {"type": "select", "options": [
            {"value": "open"}, {"value": "waiting_customer", "category": "paused"},
            {"value": "resolved", "category": "resolved"}]},
        "first_response_at": {"type": "datetime"},
        "response_sla": {"type": "select", "options": STATES},
        "response_due": {"type": "datetime"},
        "resolution_sla": {"type": "select", "options": STATES},
        "resolution_due": {"type": "datetime"}}}},
    "flows": {"service": {
        "entity": "ticket", "start": {"on": "create"},
        "nodes": {"handle": {"type": "user_task", "kind": "handle",
                             "label": {"zh-CN": "处理工单", "en": "Handle"},
                             "assignees": [{"kind": "user", "user": "admin@example.com"}]},
                  "done": {"type": "end"}},
        "edges": [{"from": "start", "to": "handle"}, {"from": "handle", "to": "done"}],
        "slas": {
            "response": {
                "targets": {"field": "priority", "values": {"p1": "PT1H", "p2": "PT4H"}},
                "calendar": "work", "met_when": {"!": {"is_blank": {"var": "first_response_at"}}},
                "status_field": "response_sla", "due_field": "response_due",
                "on_breach": [{"type": "notify", "to": [{"kind": "user",
                                                        "user": "lead@example.com"}],
                               "title": {"zh-CN": "响应超时：{{ title }}", "en": "Late"}}]},
            "resolution": {
                "target": "PT8H", "calendar": "work",
                "met_when": {"==": [{"var": "status"}, "resolved"]},
                "pause_when": {"==": [{"var": "status"}, "waiting_customer"]},
                "status_field": "resolution_sla", "due_field": "resolution_due"}}}},
}


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


def iso(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


async def setup(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/users", json={"email": "lead@example.com", "name": "lead"})
    assert response.status_code == 201, response.text
    response = await api.post("/api/apps", json={"slug": "desk", "metadata": copy.deepcopy(DOC)})
    assert response.status_code == 201, response.text


async def ticket(api: httpx.AsyncClient, record_id: int) -> dict[str, Any]:
    return (await api.get(f"{APP}/records/ticket/{record_id}")).json()


async def test_response_clock_breaches_on_working_time(api: httpx.AsyncClient,
                                                       services: Services) -> None:
    await setup(api)
    services.clock.set(at(2026, 11, 2, 9, 30))  # Monday
    made = (await api.post(f"{APP}/records/ticket", json={
        "title": "无法登录", "priority": "p1", "status": "open"})).json()
    shown = await ticket(api, made["id"])
    assert (shown["response_sla"], shown["response_due"]) == ("on_track",
                                                              iso(at(2026, 11, 2, 10, 30)))
    worker = Worker(services)
    await worker.run_once(at(2026, 11, 2, 10, 17))
    assert (await ticket(api, made["id"]))["response_sla"] == "on_track"
    await worker.run_once(at(2026, 11, 2, 10, 19))  # 80% of the hour
    assert (await ticket(api, made["id"]))["response_sla"] == "at_risk"
    await worker.run_once(at(2026, 11, 2, 10, 31))
    assert (await ticket(api, made["id"]))["response_sla"] == "breached"
    async with services.database.read() as conn:  # the breach action told the team lead
        told = (await conn.execute(select(notifications.c.title).join(
            users, users.c.id == notifications.c.user_id).where(
            users.c.email == "lead@example.com"))).scalars().all()
    assert told == ["响应超时：无法登录"]
    services.clock.set(at(2026, 11, 2, 11, 0))
    answered = await patch_read(api, f"{APP}/records/ticket/{made['id']}",
                                {"first_response_at": iso(at(2026, 11, 2, 11, 0))})
    assert answered.status_code == 200, answered.text
    assert (await ticket(api, made["id"]))["response_sla"] == "breached"  # met late

    # a p2 ticket on Friday evening is due on Monday at noon: four working hours
    services.clock.set(at(2026, 11, 6, 17, 0))
    late = (await api.post(f"{APP}/records/ticket", json={
        "title": "报表慢", "priority": "p2", "status": "open"})).json()
    assert (await ticket(api, late["id"]))["response_due"] == iso(at(2026, 11, 9, 12, 0))
    await worker.run_once(at(2026, 11, 8, 23, 0))
    assert (await ticket(api, late["id"]))["response_sla"] == "on_track"


async def test_resolution_clock_pauses_while_waiting_on_the_customer(
        api: httpx.AsyncClient, services: Services) -> None:
    await setup(api)
    services.clock.set(at(2026, 11, 2, 9, 30))
    made = (await api.post(f"{APP}/records/ticket", json={
        "title": "打印机", "priority": "p2", "status": "open"})).json()
    url = f"{APP}/records/ticket/{made['id']}"
    assert (await ticket(api, made["id"]))["resolution_due"] == iso(at(2026, 11, 2, 17, 30))
    services.clock.set(at(2026, 11, 2, 11, 30))  # two working hours used
    assert (await patch_read(api, url, {"status": "waiting_customer"})).status_code == 200
    paused = await ticket(api, made["id"])
    assert (paused["resolution_sla"], paused["resolution_due"]) == ("on_track", None)
    await Worker(services).run_once(at(2026, 11, 2, 18, 0))  # the old due time passes
    assert (await ticket(api, made["id"]))["resolution_sla"] == "on_track"
    services.clock.set(at(2026, 11, 2, 14, 30))
    assert (await patch_read(api, url, {"status": "open"})).status_code == 200
    # six working hours left from 14:30: 3.5 today, 2.5 tomorrow
    assert (await ticket(api, made["id"]))["resolution_due"] == iso(at(2026, 11, 3, 11, 30))
    services.clock.set(at(2026, 11, 3, 10, 0) + timedelta(minutes=5))
    assert (await patch_read(api, url, {"status": "resolved"})).status_code == 200
    done = await ticket(api, made["id"])
    assert (done["resolution_sla"], done["resolution_due"]) == ("met", None)
    assert (await Worker(services).run_once(at(2026, 11, 4, 9, 0))).done["flows"] == 0
