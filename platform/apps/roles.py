"""Roles of an app: their definitions are metadata (versioned, published like any change),
their members are data (people come and go without a new version). Both changes are in
the metadata audit trail."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError as PydanticError
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.diff import Change
from loom.metamodel.errors import NotFound, Problem, ValidationFailed
from loom.metamodel.i18n import message, register_messages
from loom.metamodel.roles import RoleSpec
from loom.metamodel.validation import format_path
from loom.platform.apps.audit import record_change
from loom.platform.apps.service import AppService, require_admin
from loom.platform.security.actors import Actor
from loom.platform.storage.system_tables import role_members, users

register_messages({
    "role_invalid": {"en": "The role definition has problems", "zh-CN": "角色定义有误"},
    "role_not_found": {"en": "The app has no role '{role}'", "zh-CN": "该应用没有角色“{role}”"},
    "role_unknown_members": {"en": "There is no user {emails} in this workspace",
                             "zh-CN": "本工作区没有用户 {emails}"},
    "role_member_added": {"en": "{email} joined the role", "zh-CN": "{email} 加入角色"},
    "role_member_removed": {"en": "{email} left the role", "zh-CN": "{email} 离开角色"},
    "role_changed_note": {"en": "role '{role}' changed", "zh-CN": "角色“{role}”已修改"},
    "role_removed_note": {"en": "role '{role}' removed", "zh-CN": "角色“{role}”已删除"},
})


async def members(conn: AsyncConnection, app_id: int) -> dict[str, list[dict[str, Any]]]:
    rows = (await conn.execute(
        select(role_members.c.role, users.c.id, users.c.email, users.c.name)
        .join(users, users.c.id == role_members.c.user_id)
        .where(role_members.c.app_id == app_id).order_by(users.c.email))).all()
    out: dict[str, list[dict[str, Any]]] = {}
    for role, user_id, email, name in rows:
        out.setdefault(role, []).append({"id": user_id, "email": email, "name": name})
    return out


async def list_roles(service: AppService, conn: AsyncConnection, actor: Actor,
                     slug: str) -> list[dict[str, Any]]:
    await service.require_builder(conn, actor, slug)  # permissions are the builders' matter
    runtime = await service.runtime(conn, actor, slug)
    people = await members(conn, runtime.app_id)
    return [{"name": name, **role.model_dump(mode="json", by_alias=True, exclude_none=True),
             "members": people.get(name, [])} for name, role in runtime.doc.roles.items()]


async def get_role(service: AppService, conn: AsyncConnection, actor: Actor, slug: str,
                   name: str) -> dict[str, Any]:
    for role in await list_roles(service, conn, actor, slug):
        if role["name"] == name:
            return role
    raise NotFound(message("role_not_found", role=name))


async def put_role(service: AppService, conn: AsyncConnection, actor: Actor, slug: str,
                   name: str, definition: dict[str, Any] | None,
                   emails: list[str] | None, locale: str) -> dict[str, Any]:
    """Define (or redefine) a role — a new published version when it changed — and/or set
    its members."""
    require_admin(actor)
    runtime = await service.runtime(conn, actor, slug)
    if definition is not None:
        # a clear 422 before anything is touched; compared as a publish would store it
        definition = _stored(definition)
        current = runtime.doc.to_json().get("roles", {}).get(name)
        if current != definition:
            await service.publish_item(conn, actor, slug, "roles", name, definition,
                                       message("role_changed_note", role=name).render(locale))
            runtime = await service.runtime(conn, actor, slug)
    elif name not in runtime.doc.roles:
        raise NotFound(message("role_not_found", role=name))
    if emails is not None:
        await _set_members(service, conn, actor, runtime.app_id, slug, name, emails)
    return await get_role(service, conn, actor, slug, name)


def _stored(definition: dict[str, Any]) -> dict[str, Any]:
    try:
        spec = RoleSpec.model_validate(definition)
    except PydanticError as exc:
        raise ValidationFailed(message("role_invalid"), [
            Problem(format_path(err["loc"]), err["msg"]) for err in exc.errors()]) from None
    return spec.model_dump(mode="json", exclude_none=True, exclude_defaults=True,
                           by_alias=True)


async def delete_role(service: AppService, conn: AsyncConnection, actor: Actor, slug: str,
                      name: str, locale: str) -> None:
    require_admin(actor)
    runtime = await service.runtime(conn, actor, slug)
    if name not in runtime.doc.roles:
        raise NotFound(message("role_not_found", role=name))
    await _set_members(service, conn, actor, runtime.app_id, slug, name, [])
    await service.publish_item(conn, actor, slug, "roles", name, None,
                               message("role_removed_note", role=name).render(locale))


async def _set_members(service: AppService, conn: AsyncConnection, actor: Actor, app_id: int,
                       slug: str, role: str, emails: list[str]) -> None:
    wanted = {email.strip().lower() for email in emails}
    found = dict((await conn.execute(select(users.c.email, users.c.id).where(
        users.c.workspace_id == actor.workspace_id,
        users.c.email.in_(sorted(wanted))))).all()) if wanted else {}
    unknown = sorted(wanted - set(found))
    if unknown:
        text = message("role_unknown_members", emails=", ".join(unknown))
        raise ValidationFailed(text, [Problem("members", text, code="unknown_user")])
    before = {m["email"] for m in (await members(conn, app_id)).get(role, [])}
    if before == set(found):
        return
    await conn.execute(delete(role_members).where(role_members.c.app_id == app_id,
                                                  role_members.c.role == role))
    if found:
        await conn.execute(insert(role_members), [
            {"app_id": app_id, "role": role, "user_id": user_id} for user_id in found.values()])
    path = f"roles.{role}.members"
    changes = [Change("roles", role, "added", path, message("role_member_added", email=e))
               for e in sorted(set(found) - before)]
    changes += [Change("roles", role, "removed", path, message("role_member_removed", email=e))
                for e in sorted(before - set(found))]
    await record_change(conn, actor, app_id=app_id, slug=slug, action="members_changed",
                        at=service.clock.now(), changes=changes)

