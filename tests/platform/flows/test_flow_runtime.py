"""The flow runtime on both databases: a contract approval with an amount-dependent
director, legal and finance countersigning in parallel, rejection, send-back and
resubmission, transfer, added approvers, CC, withdrawal, stale commands, flows started by
saves and by rules, and flow events firing rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flow_office import DOC, Office
from sqlalchemy import select

from loom.metamodel.errors import Conflict, PermissionDenied
from loom.platform.services import Services
from loom.platform.storage.system_tables import notifications, tasks


@pytest.fixture
async def office(services: Services) -> Office:
    office = Office(services)
    await office.setup(DOC)
    return office


async def test_small_contract_goes_to_countersigning(office: Office) -> None:
    contract = await office.contract("50000")
    [task] = await office.open_tasks("manager")
    assert (task["title"], task["record_id"], task["kind"]) == ("销售经理审批", contract,
                                                                "approval")
    assert (task["due_at"] - office.services.clock.now()).total_seconds() == 48 * 3600
    async with office.services.database.read() as conn:  # the owner was CC'd
        cc = (await conn.execute(select(notifications.c.title).where(
            notifications.c.user_id == office.id("rep")))).scalars().all()
    assert cc == ["抄送：销售经理审批"]
    assert [(t["kind"], t["title"]) for t in await office.open_tasks("rep")] == [
        ("cc", "抄送：销售经理审批")]  # and a read-only copy in the inbox
    await office.act("manager", "approve", comment="同意")
    assert await office.open_tasks("director") == []  # 50,000 needs no director
    assert [t["title"] for t in await office.open_tasks("finance")] == ["财务会签"]
    # legal countersigns: both legal members must approve
    await office.act("legal1", "approve")
    await office.act("finance", "approve")
    assert (await office.record(contract))["status"] == "in_approval"
    await office.act("legal2", "approve")
    assert (await office.record(contract))["status"] == "approved"


async def test_large_contract_needs_the_director_and_a_rejection_ends_it(
        office: Office) -> None:
    contract = await office.contract("150000")
    await office.act("manager", "approve")
    assert len(await office.open_tasks("director")) == 1
    assert await office.open_tasks("legal1") == []
    await office.act("director", "reject", comment="价格太低")
    assert (await office.record(contract))["status"] == "rejected"  # the flow_event rule
    assert await office.open_tasks("legal1") == []


async def test_send_back_resubmit_transfer_and_add_approver(office: Office) -> None:
    contract = await office.contract("150000")
    await office.act("manager", "approve")
    # the director sends it back to the submitter, who resubmits: the flow runs again
    await office.act("director", "send_back", comment="请补充附件")
    [resubmit] = [t for t in await office.open_tasks("rep") if t["kind"] != "cc"]
    assert (resubmit["kind"], resubmit["title"]) == ("resubmit", "重新提交：销售总监审批")
    with pytest.raises(Conflict):  # the director's task is gone
        await office.act("director", "approve", task_id=(await _done(office, "director")))
    await office.act("rep", "complete", task_id=resubmit["id"])
    [again] = await office.open_tasks("manager")
    # the manager transfers it to the director, who adds legal1 after himself
    await office.act("manager", "transfer", task_id=again["id"], user=office.id("director"))
    with pytest.raises(PermissionDenied):
        await office.act("manager", "approve", task_id=again["id"])
    await office.act("director", "approve", task_id=again["id"])
    [director_task] = await office.open_tasks("director")
    await office.act("director", "add_approver", task_id=director_task["id"],
                     user=office.id("legal1"), position="after")
    await office.act("director", "approve", task_id=director_task["id"])
    [added] = await office.open_tasks("legal1")
    assert added["title"] == "销售总监审批"
    await office.act("legal1", "approve", task_id=added["id"])
    assert len(await office.open_tasks("finance")) == 1
    assert (await office.record(contract))["status"] == "in_approval"


async def _done(office: Office, name: str) -> int:
    async with office.services.database.read() as conn:
        return int(await conn.scalar(select(tasks.c.id).where(
            tasks.c.assignee_id == office.id(name)).order_by(tasks.c.id.desc()).limit(1)))


async def test_withdraw_before_anyone_acted(office: Office) -> None:
    from loom.platform.storage.system_tables import flow_instances

    first = await office.contract("1000")
    second = await office.contract("2000")
    await office.act("manager", "approve",
                     task_id=next(t["id"] for t in await office.open_tasks("manager")
                                  if t["record_id"] == second))
    async with office.services.database.write() as conn:
        rows = (await conn.execute(select(flow_instances).order_by(flow_instances.c.id))
                ).mappings().all()

        async def runtime_of(row: Any) -> Any:
            return await office.services.apps.runtime_at(conn, row["app_id"],
                                                         row["app_version"])

        flows = office.services.flows
        now = office.services.clock.now()
        await flows.withdraw(await flows.instance_for(conn, runtime_of, office.people["rep"],
                                                      rows[0]["id"], now))
        with pytest.raises(Conflict):  # the manager already approved the second one
            await flows.withdraw(await flows.instance_for(
                conn, runtime_of, office.people["rep"], rows[1]["id"], now))
    assert [t["record_id"] for t in await office.open_tasks("manager")] == []
    assert first != second


async def test_a_rule_starts_the_flow_and_a_second_start_is_refused(
        services: Services) -> None:
    document = copy.deepcopy(DOC)
    document["flows"]["approval"]["start"] = {"on": "manual"}
    document["rules"]["submit"] = {
        "entity": "contract", "trigger": {"on": "field_change", "fields": ["status"]},
        "condition": {"==": [{"var": "status"}, "in_approval"]},
        "actions": [{"type": "start_flow", "flow": "approval"}]}
    office = Office(services)
    await office.setup(document)
    contract = await office.contract("10")
    assert [t["record_id"] for t in await office.open_tasks("manager")] == [contract]
    with pytest.raises(Conflict):
        async with services.database.write() as conn:
            runtime = await services.apps.runtime(conn, office.people["rep"], "deals")
            await services.flows.start(conn, runtime, office.people["rep"], "approval",
                                       contract, services.clock.now())


async def test_a_subflow_runs_and_hands_back(services: Services) -> None:
    from loom.platform.storage.system_tables import flow_instances

    document = copy.deepcopy(DOC)
    document["flows"] = {
        "approval": {"entity": "contract", "start": DOC["flows"]["approval"]["start"],
                     "nodes": {"legal": {"type": "subflow", "flow": "legal_review"},
                               "mark": DOC["flows"]["approval"]["nodes"]["mark"],
                               "approved": {"type": "end", "outcome": "approved"},
                               "rejected": {"type": "end", "outcome": "rejected"}},
                     "edges": [{"from": "start", "to": "legal"},
                               {"from": "legal", "to": "mark"},
                               {"from": "legal", "to": "rejected", "outcome": "reject"},
                               {"from": "mark", "to": "approved"}]},
        "legal_review": {"entity": "contract",
                         "nodes": {"check": {"type": "user_task", "label": {"zh-CN": "法务审核"},
                                             "assignees": [{"kind": "role", "role": "legal"}],
                                             "mode": "any"},
                                   "ok": {"type": "end", "outcome": "approved"},
                                   "no": {"type": "end", "outcome": "rejected"}},
                         "edges": [{"from": "start", "to": "check"},
                                   {"from": "check", "to": "ok", "outcome": "approve"},
                                   {"from": "check", "to": "no", "outcome": "reject"}]}}
    office = Office(services)
    await office.setup(document)
    approved = await office.contract("10")
    await office.act("legal1", "approve")  # any one of legal decides
    assert await office.open_tasks("legal2") == []
    assert (await office.record(approved))["status"] == "approved"
    refused = await office.contract("20")
    await office.act("legal2", "reject")
    assert (await office.record(refused))["status"] == "rejected"  # via the parent's rule
    async with services.database.read() as conn:
        rows = (await conn.execute(select(flow_instances.c.flow, flow_instances.c.outcome)
                                   .order_by(flow_instances.c.id))).all()
    assert [tuple(r) for r in rows] == [("approval", "approved"), ("legal_review", "approved"),
                                        ("approval", "rejected"), ("legal_review", "rejected")]


async def test_a_task_due_by_a_date_of_the_record(services: Services) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    document = copy.deepcopy(DOC)
    document["entities"]["contract"]["fields"]["deadline"] = {"type": "date",
                                                              "default": "2026-11-20"}
    manager = document["flows"]["approval"]["nodes"]["manager"]
    manager.pop("due")
    manager["due_field"] = "deadline"
    office = Office(services)
    await office.setup(document)
    await office.contract("10")
    [task] = await office.open_tasks("manager")
    assert task["due_at"] == datetime(2026, 11, 20, tzinfo=ZoneInfo("Asia/Shanghai"))
