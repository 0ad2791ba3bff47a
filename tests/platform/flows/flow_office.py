"""The people and the contract app of the flow tests, and shortcuts to act as them."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import insert, select

from loom.platform.security.actors import Actor
from loom.platform.security.users import NewUser, actor_from_row, create_user
from loom.platform.services import Services
from loom.platform.storage.system_tables import flow_activations, role_members, tasks, users

DOC: dict[str, Any] = {
    "app": {"label": {"zh-CN": "合同", "en": "Contracts"}},
    "entities": {"contract": {"label": {"zh-CN": "合同", "en": "Contract"}, "fields": {
        "title": {"type": "text"}, "amount": {"type": "currency"}, "owner": {"type": "user"},
        "status": {"type": "select", "options": [
            {"value": "draft"}, {"value": "in_approval"}, {"value": "approved"},
            {"value": "rejected"}]}}}},
    "flows": {"approval": {
        "entity": "contract",
        "start": {"on": "field_change", "fields": ["status"],
                  "condition": {"==": [{"var": "status"}, "in_approval"]}},
        "nodes": {
            "manager": {"type": "user_task", "label": {"zh-CN": "销售经理审批", "en": "Manager"},
                        "assignees": [{"kind": "manager", "of": "initiator"}],
                        "cc": [{"kind": "owner"}], "due": "PT48H"},
            "by_amount": {"type": "gateway", "kind": "exclusive"},
            "director": {"type": "user_task", "label": {"zh-CN": "销售总监审批"},
                         "assignees": [{"kind": "role", "role": "sales_director"}]},
            "split": {"type": "gateway", "kind": "parallel"},
            "legal": {"type": "user_task", "label": {"zh-CN": "法务会签"}, "mode": "all",
                      "assignees": [{"kind": "role", "role": "legal"}]},
            "finance": {"type": "user_task", "label": {"zh-CN": "财务会签"},
                        "assignees": [{"kind": "role", "role": "finance"}]},
            "both": {"type": "join"},
            "mark": {"type": "action", "actions": [
                {"type": "set_field", "field": "status", "value": "approved"}]},
            "approved": {"type": "end", "outcome": "approved"},
            "rejected": {"type": "end", "outcome": "rejected"}},
        "edges": [
            {"from": "start", "to": "manager"},
            {"from": "manager", "to": "by_amount", "outcome": "approve"},
            {"from": "manager", "to": "rejected", "outcome": "reject"},
            {"from": "by_amount", "to": "director",
             "condition": {">": [{"var": "amount"}, 100000]}},
            {"from": "by_amount", "to": "split", "default": True},
            {"from": "director", "to": "split", "outcome": "approve"},
            {"from": "director", "to": "rejected", "outcome": "reject"},
            {"from": "split", "to": "legal"}, {"from": "split", "to": "finance"},
            {"from": "legal", "to": "both", "outcome": "approve"},
            {"from": "finance", "to": "both", "outcome": "approve"},
            {"from": "legal", "to": "rejected", "outcome": "reject"},
            {"from": "finance", "to": "rejected", "outcome": "reject"},
            {"from": "both", "to": "mark"}, {"from": "mark", "to": "approved"}]}},
    "rules": {"rejected": {
        "entity": "contract", "trigger": {"on": "flow_event", "flow": "approval",
                                          "event": "rejected"},
        "actions": [{"type": "set_field", "field": "status", "value": "rejected"}]}},
}


class Office:
    """The people of the tests and shortcuts to act as them."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.people: dict[str, Actor] = {}

    async def setup(self, document: dict[str, Any]) -> None:
        async with self.services.database.write() as conn:
            admin = actor_from_row((await conn.execute(select(users).where(
                users.c.email == "admin@example.com"))).mappings().one())
            self.people["admin"] = admin
            for name, manager in (("manager", None), ("rep", "manager"), ("director", None),
                                  ("legal1", None), ("legal2", None), ("finance", None)):
                row = await create_user(conn, admin.workspace_id, NewUser(
                    email=f"{name}@example.com", name=name,
                    manager=f"{manager}@example.com" if manager else None),
                    self.services.clock)
                self.people[name] = Actor(row["id"], f"{name}@example.com",
                                          admin.workspace_id, name=name)
            await self.services.apps.create(conn, admin, "deals", document)
            runtime = await self.services.apps.runtime(conn, admin, "deals")
            await conn.execute(insert(role_members), [
                {"app_id": runtime.app_id, "role": role, "user_id": self.people[who].user_id}
                for role, who in (("sales_director", "director"), ("legal", "legal1"),
                                  ("legal", "legal2"), ("finance", "finance"))])

    def id(self, name: str) -> int:
        return int(self.people[name].user_id or 0)

    async def contract(self, amount: str, *, submit: bool = True) -> int:
        # record permissions for roles come with the security model; the rep writes as one
        # who may, and is the flow's initiator
        rep = dataclasses.replace(self.people["rep"], is_admin=True)
        async with self.services.database.write() as conn:
            runtime = await self.services.apps.runtime(conn, rep, "deals")
            record = await self.services.pipeline.create(conn, runtime, rep.via("system"),
                                                         "contract", {
                "title": "服务器采购", "amount": amount, "owner": self.id("rep"),
                "status": "draft"})
            if submit:
                await self.services.pipeline.update(conn, runtime, rep, "contract",
                                                    record["id"], {"status": "in_approval"})
        return int(record["id"])

    async def open_tasks(self, name: str) -> list[dict[str, Any]]:
        async with self.services.database.read() as conn:
            rows = await conn.execute(select(tasks).where(
                tasks.c.assignee_id == self.id(name), tasks.c.status == "open")
                .order_by(tasks.c.id))
            return [dict(r) for r in rows.mappings()]

    async def act(self, name: str, action: str, task_id: int | None = None,
                  **options: Any) -> dict[str, Any]:
        task_id = task_id or (await self.open_tasks(name))[0]["id"]
        actor = self.people[name]
        async with self.services.database.write() as conn:
            task = (await conn.execute(select(tasks).where(tasks.c.id == task_id))
                    ).mappings().one()
            instance = await self._instance(conn, actor, task)
            return await self.services.flows.act(instance, task_id, action, **options)

    async def _instance(self, conn: Any, actor: Actor, task: Any) -> Any:
        instance_id = await conn.scalar(select(flow_activations.c.instance_id).where(
            flow_activations.c.id == task["activation_id"]))

        async def runtime_of(row: Any) -> Any:
            return await self.services.apps.runtime_at(conn, row["app_id"], row["app_version"])

        return await self.services.flows.instance_for(conn, runtime_of, actor, instance_id,
                                                      self.services.clock.now())

    async def record(self, record_id: int) -> dict[str, Any]:
        admin = self.people["admin"]
        async with self.services.database.read() as conn:
            runtime = await self.services.apps.runtime(conn, admin, "deals")
            return await self.services.pipeline.load(conn, runtime, "contract", record_id)
