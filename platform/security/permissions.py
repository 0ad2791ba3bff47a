"""The one permission check. The records API, lists and filters, exports, imports,
dashboards, rule trials, flow tasks and the web UI all ask here, so they cannot disagree
about who may see or change what.

A user's access to an entity is the sum of their roles in the app (``roles`` in the app's
metadata, members in ``role_members``): the operations any of them grants, the fields any of
them shows or lets write, and for reading, changing and deleting, the records any of them
reaches — own, team, department, all, a condition — plus the records shared with the user.
Row scopes become one SQL predicate, so a list filters in the database.

Workspace administrators may do everything; so may automation (rules, flows, the system),
which administrators define. Records outside a user's reach are *not found* for them, never
"forbidden": ids don't tell a stranger what exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.expressions import NotTranslatable, Scope, compile_condition
from loom.engines.field_values.coercion import is_record_id
from loom.metamodel.errors import NotFound, PermissionDenied, Problem, ValidationFailed
from loom.metamodel.i18n import message, register_messages
from loom.metamodel.roles import EntityPermissions, reaches, scope_items
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import column_resolver, environment, related_source
from loom.platform.security.actors import Actor
from loom.platform.storage.system_tables import departments, record_shares, role_members, users

Operation = Literal["create", "read", "update", "delete", "export", "import"]
OPERATIONS: tuple[Operation, ...] = ("create", "read", "update", "delete", "export", "import")
ROW_OPERATIONS = ("read", "update", "delete")
AUTOMATION = frozenset({"rule", "flow", "system"})

register_messages({
    "denied_entity": {
        "en": "You may not {operation} {entity} records",
        "zh-CN": "您没有{operation_zh}{entity}记录的权限",
    },
    "denied_record": {"en": "You may not {operation} this {entity} record",
                      "zh-CN": "您没有{operation_zh}这条{entity}记录的权限"},
    "denied_field": {"en": "You may not see the field '{field}'",
                     "zh-CN": "您无权查看字段“{field}”"},
})

OPERATION_ZH = {"create": "新建", "read": "查看", "update": "修改", "delete": "删除",
                "export": "导出", "import": "导入"}


@dataclass(frozen=True)
class RowScope:
    """Which records: those owned by ``owners`` (own / team / department), those a
    condition holds for, and those shared with the user."""

    entity: str
    user_id: int | None
    owner_field: str | None
    owners: frozenset[int]
    conditions: tuple[Any, ...]  # compiled conditions
    shared: Literal["read", "write"]

    def where(self, runtime: AppRuntime, env: Any, dialect: str) -> ColumnElement[bool]:
        table = runtime.tables[self.entity]
        terms: list[ColumnElement[bool]] = []
        if self.owners and self.owner_field in table.c:
            terms.append(table.c[self.owner_field].in_(sorted(self.owners)))
        for condition in self.conditions:
            try:
                terms.append(condition.to_sql(column_resolver(runtime, self.entity), env,
                                              dialect=dialect, related=related_source(runtime)))
            except NotTranslatable:
                continue  # refused at publish; never widen access because of it
        if self.user_id is not None:
            levels = ["write"] if self.shared == "write" else ["read", "write"]
            terms.append(table.c.id.in_(select(record_shares.c.record_id).where(
                record_shares.c.app_id == runtime.app_id,
                record_shares.c.entity == self.entity,
                record_shares.c.user_id == self.user_id,
                record_shares.c.access.in_(levels))))
        return or_(*terms) if terms else false()


@dataclass(frozen=True)
class Access:
    """What an actor may do with one entity: readable/writable field names (None = all),
    and the records within reach (None = all)."""

    readable: frozenset[str] | None = None
    writable: frozenset[str] | None = None
    rows: RowScope | None = None

    def can_read(self, field: str) -> bool:
        return self.readable is None or field in self.readable

    def can_write(self, field: str) -> bool:
        return self.writable is None or field in self.writable

    def require_readable(self, runtime: AppRuntime, entity: str, fields: list[str]) -> None:
        """Filtering or sorting on a hidden field would reveal it: refused, naming it."""
        if self.readable is None:
            return
        spec = runtime.entity(entity)
        # "*": a field named by a computation could be any of them, hidden ones too
        hidden = [f for f in fields if f == "*" or (
            f.split(".")[0] in spec.fields and not self.can_read(f.split(".")[0]))]
        if hidden:
            text = message("denied_field", field=hidden[0])
            raise ValidationFailed(text, [Problem(f, message("denied_field", field=f),
                                                  code="hidden") for f in hidden])


FULL_ACCESS = Access()


def trusted(actor: Actor) -> bool:
    return actor.is_admin or actor.source in AUTOMATION


async def app_roles(conn: AsyncConnection, app_id: int, user_id: int | None) -> frozenset[str]:
    if user_id is None:
        return frozenset()
    rows = await conn.execute(select(role_members.c.role).where(
        role_members.c.app_id == app_id, role_members.c.user_id == user_id))
    return frozenset(rows.scalars())


async def actor_in_app(conn: AsyncConnection, actor: Actor, runtime: AppRuntime) -> Actor:
    """The actor with their roles in this app (conditions read them with ``has_role``)."""
    if actor.user_id is None:
        return actor
    return member_of_app(actor, runtime, await app_roles(conn, runtime.app_id, actor.user_id))


def member_of_app(actor: Actor, runtime: AppRuntime, roles: frozenset[str]) -> Actor:
    """The actor with the roles they hold in the app that it still defines."""
    if actor.user_id is None:
        return actor
    return actor.with_roles(roles & set(runtime.doc.roles))


def _grants(actor: Actor, runtime: AppRuntime, entity: str) -> list[EntityPermissions]:
    return [role.permissions[entity] for name, role in runtime.doc.roles.items()
            if name in actor.roles and entity in role.permissions]


async def authorize(conn: AsyncConnection, actor: Actor, runtime: AppRuntime, entity: str,
                    operation: Operation) -> Access:
    """May ``actor`` perform ``operation`` on ``entity`` records of this app? Raises
    PermissionDenied when not; returns the fields and records within reach when yes."""
    spec = runtime.entity(entity)
    if trusted(actor):
        return FULL_ACCESS
    grants = _grants(actor, runtime, entity)
    granting = _granting(grants, operation)
    if not granting:
        raise PermissionDenied(message("denied_entity", operation=operation,
                                       operation_zh=OPERATION_ZH[operation],
                                       entity=spec.label))
    readable = _fields(_granting(grants, "read"), spec.fields, ("read", "write"))
    writable = _fields(granting, spec.fields, ("write",)) \
        if operation in ("create", "update", "import") else frozenset()
    rows = None
    if operation in ROW_OPERATIONS:
        rows = await _row_scope(conn, actor, runtime, entity,
                                [s for g in granting for s in scope_items(getattr(g, operation))],
                                "write" if operation != "read" else "read")
    return Access(readable, writable, rows)


def _granting(grants: list[EntityPermissions],
              operation: Operation) -> list[EntityPermissions]:
    """The grants that allow ``operation`` (on some records, for the row operations)."""
    if operation in ROW_OPERATIONS:
        return [g for g in grants if reaches(getattr(g, operation))]
    if operation == "import":
        return [g for g in grants if g.import_]
    return [g for g in grants if getattr(g, operation)]


@dataclass(frozen=True)
class Rights:
    """What an actor may do with an entity's records before asking which records: the
    operations granted, and the fields they may read and write (None: all of them)."""

    operations: frozenset[str]
    readable: frozenset[str] | None
    writable: frozenset[str] | None


def entity_rights(actor: Actor, runtime: AppRuntime, entity: str) -> Rights:
    """The same grants ``authorize`` sums up, for describing an app to its reader (its
    navigation, which fields a form shows): no records are looked at."""
    if trusted(actor):
        return Rights(frozenset(OPERATIONS), None, None)
    grants = _grants(actor, runtime, entity)
    fields = runtime.entity(entity).fields
    writers = _granting(grants, "create") + _granting(grants, "update")
    return Rights(frozenset(op for op in OPERATIONS if _granting(grants, op)),
                  _fields(_granting(grants, "read"), fields, ("read", "write")),
                  _fields(writers, fields, ("write",)) if writers else frozenset())


def builds_app(actor: Actor, runtime: AppRuntime) -> bool:
    """Whether ``actor`` (with their roles in the app) may edit and publish its metadata:
    administrators, and members of a role with ``app_builder``."""
    return actor.is_admin or any(role.app_builder for name, role in runtime.doc.roles.items()
                                 if name in actor.roles)


def _fields(grants: list[EntityPermissions], fields: Any,
            levels: tuple[str, ...]) -> frozenset[str] | None:
    """The fields any of the grants gives at one of ``levels``; None when that is all."""
    allowed: set[str] = set()
    for grant in grants:
        allowed.update(name for name in fields
                       if grant.fields.get(name, "write") in levels)
    return None if allowed >= set(fields) else frozenset(allowed)


async def _row_scope(conn: AsyncConnection, actor: Actor, runtime: AppRuntime, entity: str,
                     scopes: list[Any], shared: Literal["read", "write"]) -> RowScope | None:
    if "all" in scopes:
        return None
    owners: set[int] = set()
    if actor.user_id is not None and "own" in scopes:
        owners.add(actor.user_id)
    if "team" in scopes:
        owners |= await team_of(conn, actor)
    if "department" in scopes:
        owners |= await department_users(conn, actor)
    field_scope = Scope.for_entity(runtime.doc, entity)
    conditions = tuple(compile_condition(s, field_scope) for s in scopes if isinstance(s, dict))
    return RowScope(entity, actor.user_id, runtime.entity(entity).owner() or "created_by",
                    frozenset(owners), conditions, shared)


async def team_of(conn: AsyncConnection, actor: Actor) -> set[int]:
    """The user and everyone who reports to them, directly or down the line."""
    if actor.user_id is None:
        return set()
    rows = (await conn.execute(select(users.c.id, users.c.manager_id).where(
        users.c.workspace_id == actor.workspace_id))).all()
    reports: dict[int, list[int]] = {}
    for user_id, manager_id in rows:
        if manager_id is not None:
            reports.setdefault(manager_id, []).append(user_id)
    team, frontier = {actor.user_id}, [actor.user_id]
    while frontier:
        frontier = [r for m in frontier for r in reports.get(m, []) if r not in team]
        team.update(frontier)
    return team


async def department_users(conn: AsyncConnection, actor: Actor) -> set[int]:
    """The users of the actor's department and of every department under it."""
    if actor.department_id is None:
        return {actor.user_id} if actor.user_id is not None else set()
    rows = (await conn.execute(select(departments.c.id, departments.c.parent_id).where(
        departments.c.workspace_id == actor.workspace_id))).all()
    children: dict[int, list[int]] = {}
    for department_id, parent_id in rows:
        if parent_id is not None:
            children.setdefault(parent_id, []).append(department_id)
    tree, frontier = {actor.department_id}, [actor.department_id]
    while frontier:
        frontier = [c for d in frontier for c in children.get(d, []) if c not in tree]
        tree.update(frontier)
    members = await conn.execute(select(users.c.id).where(
        users.c.workspace_id == actor.workspace_id, users.c.department_id.in_(sorted(tree))))
    return set(members.scalars())


async def within_reach(conn: AsyncConnection, runtime: AppRuntime, access: Access,
                       entity: str, record_id: int, env: Any) -> bool:
    """Whether one record is among those ``access`` reaches (one indexed query)."""
    if access.rows is None:
        return True
    if not is_record_id(record_id):  # beyond the id range the database would fail, not miss
        return False
    table = runtime.tables[entity]
    found = await conn.scalar(select(table.c.id).where(
        table.c.id == record_id, access.rows.where(runtime, env, conn.dialect.name)))
    return found is not None


async def require_reach(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                        access: Access, entity: str, record_id: int, operation: Operation,
                        now: datetime) -> None:
    """Refuse a change of a record outside the actor's reach: 403 when they may at least
    see it, 404 when they may not even know it exists."""
    env = environment(runtime, actor, now)
    if await within_reach(conn, runtime, access, entity, record_id, env):
        return
    label = runtime.entity(entity).label
    try:
        readable = await within_reach(conn, runtime, await authorize(
            conn, actor, runtime, entity, "read"), entity, record_id, env)
    except PermissionDenied:
        readable = False
    if readable:
        raise PermissionDenied(message("denied_record", operation=operation,
                                       operation_zh=OPERATION_ZH[operation], entity=label))
    raise NotFound(message("not_found_record", entity=label, id=record_id))
