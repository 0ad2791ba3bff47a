"""Many instances of one flow with timers, and what the worker left behind: the shared
set-up and read-back of the worker crash and concurrency tests.

The flow: a manager task with two timers — a reminder after an hour, and after two either
an auto-approval (then an action node that sets the contract's status, then the end) or an
escalation to the director. Every instance therefore has two due flow timers once two
hours have passed; firing an auto-approval runs the approval, the action (a save through
the write pipeline) and the end, so each timer does real work."""

from __future__ import annotations

import copy
import os
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flow_office import DOC, Office
from sqlalchemy import func, select

from loom.platform.services import Services
from loom.platform.storage.system_tables import (
    flow_history,
    flow_instances,
    notifications,
    timers,
)

REMINDER = "提醒：经理审批"
ESCALATION = "已超时，升级给您：经理审批"
# the moment the worker acts as of: both timers of every instance are due
AFTER = timedelta(hours=3)
# the steps of every instance's history, once each, in this order
# (the auto-approving timer is written down after what it did)
STEPS = [("started", "start"), ("task", None), ("timer", "manager"), ("approve", "manager"),
         ("action", "mark"), ("reached", "approved"), ("completed", None),
         ("timer", "manager")]


def crowd_doc(second: str = "auto_approve") -> dict[str, Any]:
    """The flow; ``second`` is the two-hour timer's action: auto_approve or escalate."""
    later: dict[str, Any] = {"after": "PT2H", "action": second}
    if second == "escalate":
        later["to"] = [{"kind": "user", "user": "director@example.com"}]
    doc = copy.deepcopy(DOC)
    doc["flows"]["approval"]["nodes"] = {
        "manager": {"type": "user_task", "label": {"zh-CN": "经理审批", "en": "Manager"},
                    "assignees": [{"kind": "manager", "of": "initiator"}],
                    "timers": [{"after": "PT1H", "action": "remind"}, later]},
        "mark": {"type": "action", "actions": [
            {"type": "set_field", "field": "status", "value": "approved"}]},
        "approved": {"type": "end", "outcome": "approved"},
        "rejected": {"type": "end", "outcome": "rejected"}}
    doc["flows"]["approval"]["edges"] = [
        {"from": "start", "to": "manager"},
        {"from": "manager", "to": "mark", "outcome": "approve"},
        {"from": "manager", "to": "rejected", "outcome": "reject"},
        {"from": "mark", "to": "approved"}]
    return doc


async def start_crowd(services: Services, count: int, second: str = "auto_approve"
                      ) -> tuple[Office, list[int]]:
    """The office with ``count`` contracts in approval, each with its two pending timers."""
    office = Office(services)
    await office.setup(crowd_doc(second))
    contracts = [await office.contract(str(1000 + n)) for n in range(count)]
    async with services.database.read() as conn:
        pending = await conn.scalar(select(func.count()).select_from(timers).where(
            timers.c.status == "pending", timers.c.kind == "flow_timer"))
    assert pending == 2 * count
    return office, contracts


def worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "loom.platform.cli", "worker", *args]


def worker_env(database_url: str) -> dict[str, str]:
    return {**os.environ, "LOOM_DATABASE_URL": database_url, "LOOM_LOCALE": "en"}


def moment(services: Services) -> datetime:
    return services.clock.now() + AFTER


async def timer_statuses(services: Services) -> Counter[str]:
    async with services.database.read() as conn:
        rows = await conn.execute(select(timers.c.status, func.count()).where(
            timers.c.kind == "flow_timer").group_by(timers.c.status))
        return Counter({status: count for status, count in rows.all()})


@dataclass
class Outcome:
    """What the worker left, per contract: its timers' statuses (by the timer's index on
    the node: 0 the reminder, 1 the two-hour timer) and those still leased, its reminder
    and escalation notifications, its instance's status and outcome, its history and its
    status field."""

    timers: dict[int, dict[int, str]]
    leased: dict[tuple[int, int], str]
    reminders: Counter[int]
    escalations: Counter[int]
    instances: dict[int, tuple[str, str | None]]
    histories: dict[int, list[tuple[str, str | None]]]
    statuses: dict[int, str]

    def count(self, status: str) -> int:
        return len(self.having(status))

    def having(self, status: str) -> set[tuple[int, int]]:
        """The (contract, timer index) of the timers in ``status``."""
        return {(contract, index) for contract, by_index in self.timers.items()
                for index, state in by_index.items() if state == status}


async def outcome(office: Office, contracts: list[int]) -> Outcome:
    services = office.services
    async with services.database.read() as conn:
        instance_rows = (await conn.execute(select(
            flow_instances.c.id, flow_instances.c.record_id, flow_instances.c.status,
            flow_instances.c.outcome))).all()
        record_of = {row.id: row.record_id for row in instance_rows}
        per_contract: dict[int, dict[int, str]] = {}
        leased: dict[tuple[int, int], str] = {}
        for row in (await conn.execute(select(timers).where(timers.c.kind == "flow_timer")
                                       .order_by(timers.c.id))).mappings():
            contract = record_of[row["payload"]["instance"]]
            index = row["payload"]["timer"]
            assert index not in per_contract.get(contract, {}), "a timer stored twice"
            per_contract.setdefault(contract, {})[index] = row["status"]
            if row["claimed_until"] is not None:
                leased[contract, index] = row["status"]
        reminders = Counter((await conn.execute(select(notifications.c.record_id).where(
            notifications.c.title == REMINDER,
            notifications.c.user_id == office.id("manager")))).scalars())
        escalations = Counter((await conn.execute(select(notifications.c.record_id).where(
            notifications.c.title == ESCALATION,
            notifications.c.user_id == office.id("director")))).scalars())
        history_rows = (await conn.execute(select(
            flow_history.c.instance_id, flow_history.c.event, flow_history.c.node)
            .order_by(flow_history.c.id))).all()
    histories: dict[int, list[tuple[str, str | None]]] = {}
    for row in history_rows:
        histories.setdefault(record_of[row.instance_id], []).append((row.event, row.node))
    statuses = {c: (await office.record(c))["status"] for c in contracts}
    return Outcome(timers=per_contract, leased=leased, reminders=reminders,
                   escalations=escalations,
                   instances={row.record_id: (row.status, row.outcome)
                              for row in instance_rows},
                   histories=histories, statuses=statuses)


def assert_all_or_nothing(result: Outcome, contracts: list[int]) -> None:
    """Each timer's effects are there exactly when it is marked fired: one reminder for a
    fired reminder, the approval, the action, the end and the status field for a fired
    auto-approval — and none of it for a timer not (yet) fired."""
    assert sorted(result.timers) == sorted(contracts)
    for contract in contracts:
        fired = {i for i, status in result.timers[contract].items() if status == "fired"}
        assert result.reminders[contract] == (1 if 0 in fired else 0), contract
        steps = STEPS[:2] + (STEPS[2:3] if 0 in fired else []) + \
            (STEPS[3:] if 1 in fired else [])
        assert result.histories[contract] == steps, contract
        if 1 in fired:
            assert result.instances[contract] == ("completed", "approved"), contract
            assert result.statuses[contract] == "approved", contract
        else:
            assert result.instances[contract] == ("running", None), contract
            assert result.statuses[contract] == "in_approval", contract


def assert_each_fired_once(result: Outcome, contracts: list[int]) -> None:
    """Every timer fired, every instance reminded once, approved once and completed; no
    lease left behind."""
    assert {c: result.timers[c] for c in contracts} == \
        {c: {0: "fired", 1: "fired"} for c in contracts}
    assert result.leased == {}
    assert result.reminders == Counter({c: 1 for c in contracts})
    assert result.instances == {c: ("completed", "approved") for c in contracts}
    assert result.statuses == {c: "approved" for c in contracts}
    for contract in contracts:
        assert result.histories[contract] == STEPS, contract
