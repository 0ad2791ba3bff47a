"""Who a flow's user task goes to, resolved when the task is created."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.flows import Assignee, UserTask, Wait
from loom.metamodel.rules import Recipient
from loom.platform.compiled.app import AppRuntime
from loom.platform.rules.recipients import Recipients
from loom.platform.security.actors import Actor
from loom.platform.storage.system_tables import departments, role_members, users


def reads_record(node: UserTask | Wait) -> bool:
    """Whether entering ``node`` needs the record's values: assignees or copies taken
    from its fields or its owner, a pool's candidates, a deadline or wait from a field, a
    wait's condition."""
    if isinstance(node, Wait):
        return node.condition is not None or node.until_field is not None
    people = [*node.assignees, *node.cc]
    return node.due_field is not None or any(
        person.kind in ("field", "owner", "pool")
        or (person.kind == "manager" and person.of == "owner") for person in people)


class FlowAssignees:
    def __init__(self, conn: AsyncConnection, runtime: AppRuntime, actor: Actor, entity: str,
                 data: Mapping[str, Any], initiator_id: int | None) -> None:
        self.conn = conn
        self.runtime = runtime
        self.initiator_id = initiator_id
        self.recipients = Recipients(conn, runtime, actor, entity, data)

    async def resolve(self, assignee: Assignee) -> list[int]:
        """The users of one assignee spec (for a pool: its candidates)."""
        kind = assignee.kind
        if kind in ("user", "role", "field", "owner"):
            return await self.recipients.user_ids(Recipient(
                kind=kind, user=assignee.user, role=assignee.role, field=assignee.field))
        if kind == "initiator":
            return [self.initiator_id] if self.initiator_id is not None else []
        if kind == "manager":
            return await self._manager(assignee)
        if kind == "department_head":
            return await self._department_head()
        if kind == "pool" and assignee.candidates is not None:
            return await self.recipients.candidates(assignee.candidates)
        return []

    async def _base(self, of: str) -> list[int]:
        if of == "owner":
            return await self.recipients.user_ids(Recipient(kind="owner"))
        return [self.initiator_id] if self.initiator_id is not None else []

    async def _manager(self, assignee: Assignee) -> list[int]:
        current = await self._base(assignee.of)
        levels = 10 if assignee.up_to_role else assignee.levels
        for _ in range(levels):
            if not current:
                return []
            current = sorted(set((await self.conn.execute(select(users.c.manager_id).where(
                users.c.id.in_(current), users.c.manager_id.is_not(None)))).scalars()))
            if assignee.up_to_role and current and await self._has_role(current[0],
                                                                         assignee.up_to_role):
                return current
        return [] if assignee.up_to_role else current

    async def _has_role(self, user_id: int, role: str) -> bool:
        found = await self.conn.scalar(select(role_members.c.user_id).where(
            role_members.c.app_id == self.runtime.app_id, role_members.c.role == role,
            role_members.c.user_id == user_id))
        return found is not None

    async def _department_head(self) -> list[int]:
        if self.initiator_id is None:
            return []
        head = await self.conn.scalar(
            select(departments.c.head_id).join(users, users.c.department_id == departments.c.id)
            .where(users.c.id == self.initiator_id))
        return [head] if head is not None else []

    async def admins(self) -> list[int]:
        return list((await self.conn.execute(select(users.c.id).where(
            users.c.workspace_id == self.runtime.workspace_id, users.c.is_admin.is_(True),
            users.c.active.is_(True)).order_by(users.c.id))).scalars())
