"""Time in flows on both databases: task reminders and escalation, auto-approval after a
deadline, a timeout edge, waits for a duration and for a condition on the record, stale
timers doing nothing, and a failing action node retried with backoff, then an incident an
administrator retries."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from flow_office import DOC, Office
from sqlalchemy import select

from loom.platform.services import Services
from loom.platform.storage.system_tables import (
    flow_history,
    flow_instances,
    notifications,
    timers,
)
from loom.platform.worker import Worker

HOUR = timedelta(hours=1)


def flow(nodes: dict[str, Any], edges: list[dict[str, Any]]) -> dict[str, Any]:
    doc = copy.deepcopy(DOC)
    doc["flows"]["approval"]["nodes"] = nodes
    doc["flows"]["approval"]["edges"] = edges
    return doc


def manager_task(**options: Any) -> dict[str, Any]:
    return {"type": "user_task", "label": {"zh-CN": "经理审批", "en": "Manager"},
            "assignees": [{"kind": "manager", "of": "initiator"}], **options}


END = {"type": "end", "outcome": "approved"}


async def status(office: Office) -> tuple[str, str | None]:
    async with office.services.database.read() as conn:
        row = (await conn.execute(select(flow_instances.c.status, flow_instances.c.outcome)
                                  .order_by(flow_instances.c.id.desc()).limit(1))).one()
    return row[0], row[1]


async def titles(office: Office, name: str) -> list[str]:
    async with office.services.database.read() as conn:
        return list((await conn.execute(select(notifications.c.title).where(
            notifications.c.user_id == office.id(name)).order_by(notifications.c.id)))
            .scalars())


async def test_reminder_escalation_and_auto_approval(services: Services) -> None:
    office = Office(services)
    await office.setup(flow({
        "manager": manager_task(due="PT48H", timers=[
            {"before_due": "PT4H", "action": "remind"},
            {"after": "PT48H", "action": "escalate", "to": [{"kind": "user",
                                                            "user": "director@example.com"}]},
            {"after": "PT72H", "action": "auto_approve"}]),
        "done": END}, [{"from": "start", "to": "manager"},
                       {"from": "manager", "to": "done", "outcome": "approve"}]))
    await office.contract("10")
    start = services.clock.now()
    worker = Worker(services)
    assert (await worker.run_once(start + 43 * HOUR)).done["flows"] == 0
    assert (await worker.run_once(start + 44 * HOUR)).done["flows"] == 1
    assert await titles(office, "manager") == ["提醒：经理审批"]
    # after downtime both later timers fire, once each
    assert (await worker.run_once(start + 100 * HOUR)).done["flows"] == 2
    assert await titles(office, "director") == ["已超时，升级给您：经理审批"]
    assert await status(office) == ("completed", "approved")
    assert await office.open_tasks("manager") == []
    assert (await worker.run_once(start + 200 * HOUR)).done["flows"] == 0


async def test_a_timeout_edge_and_stale_timers(services: Services) -> None:
    office = Office(services)
    await office.setup(flow({
        "manager": manager_task(timers=[{"after": "PT24H", "action": "timeout"}]),
        "late": {"type": "end", "outcome": "timed_out"}, "done": END},
        [{"from": "start", "to": "manager"},
         {"from": "manager", "to": "done", "outcome": "approve"},
         {"from": "manager", "to": "late", "outcome": "timeout"}]))
    await office.contract("1")
    await office.contract("2")
    await office.act("manager", "approve")  # the first is handled in time
    start = services.clock.now()
    assert (await Worker(services).run_once(start + 25 * HOUR)).done["flows"] == 1
    async with services.database.read() as conn:
        rows = (await conn.execute(select(flow_instances.c.outcome)
                                   .order_by(flow_instances.c.id))).scalars().all()
        states = sorted((await conn.execute(select(timers.c.status))).scalars().all())
    assert rows == ["approved", "timed_out"]
    assert states == ["cancelled", "fired"]  # the handled task's timer was cancelled


async def test_waits_for_a_duration_and_for_the_record(services: Services) -> None:
    office = Office(services)
    await office.setup(flow({
        "cool_off": {"type": "wait", "duration": "P1D"},
        "signed": {"type": "wait", "condition": {"==": [{"var": "status"}, "approved"]},
                   "timeout": "P7D"},
        "done": END, "lapsed": {"type": "end", "outcome": "lapsed"}},
        [{"from": "start", "to": "cool_off"}, {"from": "cool_off", "to": "signed"},
         {"from": "signed", "to": "done"},
         {"from": "signed", "to": "lapsed", "outcome": "timeout"}]))
    contract = await office.contract("5")
    start = services.clock.now()
    worker = Worker(services)
    assert (await worker.run_once(start + 23 * HOUR)).done["flows"] == 0
    assert (await worker.run_once(start + 25 * HOUR)).done["flows"] == 1
    assert await status(office) == ("running", None)
    # a save that makes the condition true moves the flow on, in that save
    admin = office.people["admin"]
    async with services.database.write() as conn:
        runtime = await services.apps.runtime(conn, admin, "deals")
        await services.pipeline.update(conn, runtime, admin, "contract", contract,
                                       {"status": "approved"})
    assert await status(office) == ("completed", "approved")
    assert (await worker.run_once(start + 30 * 24 * HOUR)).done["flows"] == 0  # cancelled


async def test_a_failing_action_is_retried_then_an_incident(services: Services) -> None:
    office = Office(services)
    await office.setup(flow({
        "mark": {"type": "action", "retry": {"max": 2, "backoff": "PT10M"},
                 "actions": [{"type": "set_field", "field": "status", "value": "nonsense"}]},
        "done": END}, [{"from": "start", "to": "mark"}, {"from": "mark", "to": "done"}]))
    await office.contract("7")  # the save itself goes through; the flow waits to retry
    start = services.clock.now()
    worker = Worker(services)
    assert (await worker.run_once(start + 10 * timedelta(minutes=1))).done["flows"] == 1
    assert (await worker.run_once(start + timedelta(minutes=31))).done["flows"] == 1
    async with services.database.read() as conn:
        events = (await conn.execute(select(flow_history.c.event).where(
            flow_history.c.event.in_(("retrying", "incident"))).order_by(flow_history.c.id))
        ).scalars().all()
        instance_id = await conn.scalar(select(flow_instances.c.id))
    assert events == ["retrying", "retrying", "incident"]
    assert await status(office) == ("running", None)
    assert (await worker.run_once(start + timedelta(days=9))).done["flows"] == 0
    # an administrator fixes the flow's cause… here: retrying still fails, and says so
    admin = office.people["admin"]
    async with services.database.write() as conn:
        async def runtime_of(row: Any) -> Any:
            return await services.apps.runtime_at(conn, row["app_id"], row["app_version"])

        instance = await services.flows.instance_for(conn, runtime_of, admin, instance_id,
                                                     services.clock.now())
        assert await services.flows.retry_incidents(instance) == 1
    async with services.database.read() as conn:
        last = (await conn.execute(select(flow_history.c.event, flow_history.c.details)
                                   .order_by(flow_history.c.id.desc()).limit(1))).one()
    assert last[0] == "retrying"
    assert "nonsense" in last[1]["error"]


@pytest.mark.parametrize("bad", [
    {"type": "wait"},
    {"type": "wait", "duration": "P1D", "timeout": "P2D"},
])
def test_waits_are_checked_at_publish(bad: dict[str, Any]) -> None:
    from loom.engines.flows.flow_checks import check_flows
    from loom.metamodel.app import AppDocument

    doc = AppDocument.model_validate(flow({"w": bad, "done": END},
                                          [{"from": "start", "to": "w"},
                                           {"from": "w", "to": "done"}]))
    assert [p.code for p in check_flows(doc)] in (["flow_wait_for"], ["flow_timeout_edge"])
