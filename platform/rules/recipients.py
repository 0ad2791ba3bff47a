"""Who a rule means: recipients of notifications, emails and tasks, and assignment
candidates, resolved to users of the app's workspace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.i18n import LOCALES
from loom.metamodel.rules import Candidates, Recipient
from loom.platform.compiled.app import AppRuntime
from loom.platform.security.actors import Actor
from loom.platform.storage.system_tables import role_members, users


def _as_ids(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [item for item in value if item is not None and item != ""]
    return [value]


class Recipients:
    """Resolves recipient specs for one record of one app."""

    def __init__(self, conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                 entity: str, data: Mapping[str, Any]) -> None:
        self.conn = conn
        self.runtime = runtime
        self.actor = actor
        self.entity = entity
        self.data = data

    async def user_ids(self, recipient: Recipient) -> list[int]:
        kind = recipient.kind
        if kind == "user":
            return await self._by_emails([recipient.user or ""])
        if kind == "field":
            return await self._users(_as_ids(self.data.get(recipient.field or "")))
        if kind == "owner":
            owner = self.runtime.entity(self.entity).owner()
            return await self._users(_as_ids(self.data.get(owner)) if owner else [])
        if kind == "actor":
            return [self.actor.user_id] if self.actor.user_id is not None else []
        if kind == "manager":
            base = await self.user_ids(self._base_of(recipient.of))
            return await self._managers(base, recipient.levels)
        if kind == "role":
            return list((await self.conn.execute(
                select(role_members.c.user_id).where(
                    role_members.c.app_id == self.runtime.app_id,
                    role_members.c.role == recipient.role)
                .order_by(role_members.c.user_id))).scalars())
        return []

    async def addressees(self, recipient: Recipient) -> list[tuple[str, str | None]]:
        """Email addresses with the language each person chose (None: an address that is
        no user, or a user who chose none)."""
        if recipient.kind == "email":
            if recipient.email:
                return [(recipient.email, None)]
            return [(str(v), None) for v in _as_ids(self.data.get(recipient.field or ""))]
        ids = await self.user_ids(recipient)
        if not ids:
            return []
        rows = await self.conn.execute(select(users.c.email, users.c.locale)
                                       .where(users.c.id.in_(ids)).order_by(users.c.id))
        return [(email, locale if locale in LOCALES else None) for email, locale in rows.all()]

    async def candidates(self, candidates: Candidates) -> list[int]:
        """Assignment candidates, in a stable order (by user id), active users only."""
        found: list[int] = []
        if candidates.users:
            found += await self._by_emails(candidates.users)
        if candidates.field:
            found += await self._users(_as_ids(self.data.get(candidates.field)))
        if candidates.role:
            found += await self.user_ids(Recipient(kind="role", role=candidates.role))
        return sorted(set(found))

    def _base_of(self, of: str | None) -> Recipient:
        if of in (None, "owner"):
            return Recipient(kind="owner")
        if of == "actor":
            return Recipient(kind="actor")
        return Recipient(kind="field", field=of)

    async def _managers(self, ids: list[int], levels: int) -> list[int]:
        for _ in range(levels):
            if not ids:
                return []
            rows = await self.conn.execute(select(users.c.manager_id).where(
                users.c.id.in_(ids), users.c.manager_id.is_not(None)))
            ids = sorted(set(rows.scalars()))
        return ids

    async def _by_emails(self, emails: list[str]) -> list[int]:
        wanted = [email.strip().lower() for email in emails if email]
        if not wanted:
            return []
        rows = await self.conn.execute(select(users.c.id).where(
            users.c.workspace_id == self.runtime.workspace_id, users.c.email.in_(wanted),
            users.c.active.is_(True)).order_by(users.c.id))
        return list(rows.scalars())

    async def _users(self, values: list[Any]) -> list[int]:
        """User ids from values that are ids or emails, checked to be active users of
        this workspace."""
        ids = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
        emails = [v for v in values if isinstance(v, str)]
        ids += [int(v) for v in emails if v.isdigit()]
        found = await self._by_emails([v for v in emails if not v.isdigit()])
        if ids:
            rows = await self.conn.execute(select(users.c.id).where(
                users.c.workspace_id == self.runtime.workspace_id, users.c.id.in_(ids),
                users.c.active.is_(True)))
            found += list(rows.scalars())
        return sorted(set(found))
