"""Service ticketing of CRM_TEMPLATE.md §3 (服务工单): a ticket from any channel is routed by
type and urgency and given to the least-loaded engineer; response and resolution SLAs run on
the business calendar (09:00–18:00 Shanghai, workdays), pause while waiting on the customer
and escalate on breach; the engineer records the fix and the customer signs; closing
schedules a satisfaction visit whose score feeds the customer's satisfaction and the churn
warning. The world starts on Monday 2026-11-02 at 09:30 in Shanghai (01:30 UTC)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from crm_world import APP, World

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
SIGNATURE = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42"
             "mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")  # the customer's 签名, a tiny PNG


def shanghai(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+08:00").astimezone(UTC)


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def customer_with_contact(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    customer = await world.create("customer", {"name": "宁波海天机械有限公司",
                                               "owner": world.id("zhang"), "tag": "formal"})
    contact = await world.create("contact", {"name": "林涛", "customer": customer["id"],
                                             "email": "lintao@haitian.example"})
    return customer, contact


async def ticket(world: World, customer: dict, contact: dict, **values: Any) -> dict[str, Any]:
    return await world.create("ticket", {
        "subject": "注塑机控制系统无法启动", "customer": customer["id"],
        "contact": contact["id"], "channel": "phone", "type": "fault", "priority": "p1",
        **values})


async def test_tickets_are_routed_by_type_and_urgency_to_the_least_loaded_engineer(
        world: World) -> None:
    customer, contact = await customer_with_contact(world)

    urgent = await ticket(world, customer, contact)
    second = await ticket(world, customer, contact, subject="网页表单：发票抬头咨询",
                          channel="web", type="consultation", priority="p4")
    complaint = await ticket(world, customer, contact, subject="售后响应太慢",
                             channel="email", type="complaint", priority="p3")

    assert urgent["queue"] == "senior_support"
    assert complaint["queue"] == "customer_care"
    assert second["queue"] == "technical_support"
    engineers = {world.id("engineer_wu"), world.id("engineer_zheng")}
    assert {urgent["assignee"], second["assignee"]} == engineers  # the load is spread
    assert "P1 紧急工单：注塑机控制系统无法启动" in await world.titles("service_lead")
    assert "P1 紧急工单：注塑机控制系统无法启动" in await world.titles(
        "engineer_wu" if urgent["assignee"] == world.id("engineer_wu") else "engineer_zheng")


def engineer_of(world: World, record: dict) -> str:
    return next(k for k in ("engineer_wu", "engineer_zheng") if world.id(k) == record["assignee"])


async def test_the_sla_clock_runs_on_business_hours_and_pauses_while_waiting_on_the_customer(
        world: World) -> None:
    customer, contact = await customer_with_contact(world)
    record = await ticket(world, customer, contact)
    assert record == await world.get("ticket", record["id"])  # the answer is what is stored
    # P1: respond within 1 business hour, resolve within 8
    assert utc(record["response_due_at"]) == shanghai("2026-11-02T10:30:00")
    assert utc(record["resolve_due_at"]) == shanghai("2026-11-02T17:30:00")
    assert (record["response_sla_status"], record["sla_status"]) == ("on_track", "on_track")
    engineer = engineer_of(world, record)

    await world.at(shanghai("2026-11-02T10:00:00"))
    started = await world.action("ticket", record["id"], "start_work", by=engineer)
    assert started.status_code == 200, started.text
    record = await world.get("ticket", record["id"])
    assert record["response_sla_status"] == "met"
    assert utc(record["first_response_at"]) == shanghai("2026-11-02T10:00:00")

    await world.at(shanghai("2026-11-02T11:00:00"))
    await world.change("ticket", record["id"], {"status": "waiting_customer"}, by=engineer)
    await world.at(shanghai("2026-11-03T11:00:00"))  # a whole business day later
    await world.change("ticket", record["id"], {"status": "in_progress"}, by=engineer)

    record = await world.get("ticket", record["id"])
    # the 9 business hours spent waiting on the customer do not count
    assert utc(record["resolve_due_at"]) == shanghai("2026-11-03T17:30:00")
    await world.at(shanghai("2026-11-03T17:00:00"))
    assert (await world.get("ticket", record["id"]))["sla_status"] != "breached"
    assert not any("超时" in t for t in await world.titles("service_lead"))


async def test_a_breached_sla_escalates_to_the_service_lead(world: World) -> None:
    customer, contact = await customer_with_contact(world)
    record = await ticket(world, customer, contact, priority="p2")  # respond in 2h

    await world.at(shanghai("2026-11-02T11:20:00"))
    assert (await world.get("ticket", record["id"]))["escalated"] is not True
    await world.at(shanghai("2026-11-02T11:31:00"))

    record = await world.get("ticket", record["id"])
    assert (record["response_sla_status"], record["escalated"]) == ("breached", True)
    assert f"工单响应超时：{record['number']} 注塑机控制系统无法启动" in \
        await world.titles("service_lead")


async def test_closing_a_signed_ticket_schedules_a_visit_whose_score_feeds_churn_warning(
        world: World) -> None:
    customer, contact = await customer_with_contact(world)
    record = await ticket(world, customer, contact)
    engineer = engineer_of(world, record)
    await world.action("ticket", record["id"], "start_work", by=engineer)
    sent = await world.as_(engineer).post(f"/api/apps/{APP}/files/ticket/photos", files={
        "file": ("电源模块.png", base64.b64decode(SIGNATURE.split(",")[1]), "image/png")})
    assert sent.status_code == 201, sent.text
    await world.change("ticket", record["id"], {
        "diagnosis": "主板电源模块损坏", "solution": "更换电源模块并升级固件",
        "photos": [sent.json()], "signature": SIGNATURE, "status": "resolved"}, by=engineer)
    resolved = await world.get("ticket", record["id"])
    [photo] = resolved["photos"]
    seen = await world.as_("service_lead").get(photo["url"])
    assert seen.status_code == 200 and seen.headers["content-type"] == "image/png"
    assert resolved["resolved_at"] and resolved["sla_status"] == "met"
    assert [m["summary"] for m in await world.outbox() if m["kind"] == "email"] == [
        f"lintao@haitian.example: 您的服务工单 {resolved['number']} 已解决"]

    closed = await world.action("ticket", record["id"], "close", by=engineer)
    assert closed.status_code == 200, closed.text
    [visit] = await world.find("visit")
    assert (visit["kind"], visit["ticket"], visit["customer"], visit["status"]) == (
        "satisfaction", record["id"], customer["id"], "planned")
    assert visit["due_on"] == "2026-11-05"

    await world.at(shanghai("2026-11-05T10:01:00"))
    caller = next(k for k in world.users if world.id(k) == visit["owner"])
    [call] = [t for t in await world.tasks(caller) if t["entity"] == "visit"]
    assert call["title"].startswith("回访客户：满意度回访")
    await world.change("visit", visit["id"], {"score": 2, "notes": "维修太慢"}, by=caller)
    assert (await world.get("customer", customer["id"]))["satisfaction"] == 2
    assert (await world.get("ticket", record["id"]))["satisfaction"] == 2

    await world.at(shanghai("2026-11-06T08:01:00"))

    warned = await world.get("customer", customer["id"])
    assert warned["churn_risk"] is True
    assert [t["title"] for t in await world.tasks("zhang") if t["entity"] == "customer"] == [
        "流失预警：宁波海天机械有限公司"]


async def test_a_ticket_closed_in_one_go_meets_its_slas(world: World) -> None:
    customer, contact = await customer_with_contact(world)
    record = await ticket(world, customer, contact, priority="p3", subject="电话咨询：保修期")

    closed = await world.change("ticket", record["id"], {
        "status": "closed", "solution": "已电话告知保修期为两年"})

    assert (closed["status"], closed["response_sla_status"], closed["sla_status"]) == (
        "closed", "met", "met")
    assert closed["resolved_at"] and closed["first_response_at"]
    assert len(await world.find("visit")) == 1

