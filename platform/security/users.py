"""Workspaces and users: creation, lookup and the first admin."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import Conflict, NotFound, Problem, ValidationFailed
from loom.metamodel.i18n import LOCALES, message, register_messages
from loom.platform.clock import Clock
from loom.platform.security import trail
from loom.platform.security.actors import Actor, Source
from loom.platform.security.password_policy import password_problems
from loom.platform.security.passwords import hash_password
from loom.platform.storage.system_tables import departments, users, workspaces

DEFAULT_WORKSPACE = "default"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# the sizes of the users and departments columns
TEXT_LIMITS = {"email": 320, "name": 200, "manager": 320, "department": 200, "locale": 10}

register_messages({
    "user_email_invalid": {"en": "A valid email address is required",
                           "zh-CN": "请填写有效的邮箱地址"},
    "user_name_required": {"en": "A name is required", "zh-CN": "请填写姓名"},
    "user_text_too_long": {"en": "At most {max} characters", "zh-CN": "最多 {max} 个字符"},
    "user_text_nul": {"en": "Must not contain a NUL character", "zh-CN": "不能包含 NUL 字符"},
    "user_locale_unknown": {"en": "The language must be one of: {locales}",
                            "zh-CN": "语言必须是以下之一：{locales}"},
    "user_email_taken": {"en": "A user with the email {email} already exists",
                         "zh-CN": "邮箱为 {email} 的用户已存在"},
    "user_email_used": {"en": "Already used", "zh-CN": "已被使用"},
    "user_not_created": {"en": "The user cannot be created", "zh-CN": "无法创建该用户"},
    "user_no_such_manager": {"en": "There is no user {email}", "zh-CN": "不存在用户 {email}"},
    "user_not_found": {"en": "There is no user {id}", "zh-CN": "不存在用户 {id}"},
})


@dataclass(frozen=True)
class NewUser:
    email: str
    name: str
    password: str | None = None
    is_admin: bool = False
    manager: str | None = None
    department: str | None = None
    locale: str | None = None


async def ensure_workspace(conn: AsyncConnection, slug: str, clock: Clock,
                           name: str | None = None) -> int:
    found = await conn.scalar(select(workspaces.c.id).where(workspaces.c.slug == slug))
    if found is not None:
        return found
    created = await conn.execute(insert(workspaces).values(
        slug=slug, name=name or slug, created_at=clock.now()).returning(workspaces.c.id))
    return created.scalar_one()


async def count_users(conn: AsyncConnection) -> int:
    return await conn.scalar(select(func.count()).select_from(users)) or 0


async def ensure_department(conn: AsyncConnection, workspace_id: int, name: str,
                            clock: Clock) -> int:
    found = await conn.scalar(select(departments.c.id).where(
        departments.c.workspace_id == workspace_id, departments.c.name == name))
    if found is not None:
        return found
    return (await conn.execute(insert(departments).values(
        workspace_id=workspace_id, name=name, created_at=clock.now())
        .returning(departments.c.id))).scalar_one()


def text_problems(values: dict[str, Any]) -> list[Problem]:
    """What the columns cannot hold (too long, U+0000) and what a profile must be: a name
    that is not blank, a language Loom speaks."""
    problems = []
    if "name" in values and not (values["name"] or "").strip():
        problems.append(Problem("name", message("user_name_required")))
    for field, longest in TEXT_LIMITS.items():
        text = values.get(field) or ""
        if len(text) > longest:  # the column's size: PostgreSQL would refuse, not cut
            problems.append(Problem(field, message("user_text_too_long", max=longest)))
        if "\x00" in text:  # PostgreSQL text cannot hold U+0000
            problems.append(Problem(field, message("user_text_nul")))
    locale = values.get("locale")
    if locale and len(locale) <= TEXT_LIMITS["locale"] and locale not in LOCALES:
        problems.append(Problem("locale", message("user_locale_unknown",
                                                  locales=", ".join(LOCALES))))
    return problems


def _check_new_user(new: NewUser) -> list[Problem]:
    problems = []
    if not EMAIL.match(new.email or ""):
        problems.append(Problem("email", message("user_email_invalid")))
    problems.extend(text_problems({field: getattr(new, field)
                                   for field in (*TEXT_LIMITS, "name")}))
    if new.password is not None:
        problems.extend(password_problems(new.password, new.email))
    return problems


async def create_user(conn: AsyncConnection, workspace_id: int, new: NewUser,
                      clock: Clock, *, actor: Actor | None = None,
                      source: Source | None = None) -> dict[str, Any]:
    """Create a user in a workspace; the email is the login and must be unused. The
    security trail says who added them (``actor``; None: ``source``, e.g. the CLI)."""
    problems = _check_new_user(new)
    if problems:
        raise ValidationFailed(message("user_not_created"), problems)
    email = new.email.strip().lower()
    if await conn.scalar(select(users.c.id).where(users.c.email == email)) is not None:
        raise Conflict(message("user_email_taken", email=email),
                       [Problem("email", message("user_email_used"))])
    manager_id = None
    if new.manager:
        manager_id = await conn.scalar(select(users.c.id).where(
            users.c.email == new.manager.strip().lower(), users.c.workspace_id == workspace_id))
        if manager_id is None:
            raise ValidationFailed(message("user_not_created"), [Problem(
                "manager", message("user_no_such_manager", email=new.manager))])
    department_id = None
    if new.department:
        department_id = await ensure_department(conn, workspace_id, new.department, clock)
    values = dict(workspace_id=workspace_id, email=email, name=new.name.strip(),
                  password_hash=hash_password(new.password) if new.password else None,
                  is_admin=new.is_admin, active=True, manager_id=manager_id,
                  department_id=department_id, locale=new.locale, created_at=clock.now())
    user_id = (await conn.execute(insert(users).values(**values)
                                  .returning(users.c.id))).scalar_one()
    created = await get_user(conn, workspace_id, user_id)
    await trail.note(conn, workspace_id, actor, "user_created", user_id, clock.now(),
                     trail.person_changes(None, created), source=source)
    return created


async def get_user(conn: AsyncConnection, workspace_id: int, user_id: int) -> dict[str, Any]:
    row = (await conn.execute(select(users).where(
        users.c.id == user_id, users.c.workspace_id == workspace_id))).mappings().first()
    if row is None:
        raise NotFound(message("user_not_found", id=user_id))
    return await describe_user(conn, row)


async def describe_user(conn: AsyncConnection, row: Any) -> dict[str, Any]:
    manager = None
    if row["manager_id"]:
        manager = await conn.scalar(select(users.c.email).where(users.c.id == row["manager_id"]))
    department = None
    if row["department_id"]:
        department = await conn.scalar(select(departments.c.name).where(
            departments.c.id == row["department_id"]))
    return {"id": row["id"], "email": row["email"], "name": row["name"],
            "is_admin": row["is_admin"], "active": row["active"], "manager": manager,
            "department": department, "locale": row["locale"]}


async def list_users(conn: AsyncConnection, workspace_id: int) -> list[dict[str, Any]]:
    rows = (await conn.execute(select(users).where(users.c.workspace_id == workspace_id)
                               .order_by(users.c.id))).mappings().all()
    return [await describe_user(conn, row) for row in rows]


def actor_from_row(row: Any, source: str = "api") -> Actor:
    return Actor(user_id=row["id"], email=row["email"], workspace_id=row["workspace_id"],
                 is_admin=bool(row["is_admin"]), name=row["name"],
                 department_id=row["department_id"], manager_id=row["manager_id"],
                 locale=row["locale"] or "zh-CN", source=source)  # type: ignore[arg-type]
