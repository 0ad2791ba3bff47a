"""Workspaces and users: creation, lookup and the first admin."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import Conflict, NotFound, Problem, ValidationFailed
from loom.platform.clock import Clock
from loom.platform.security.actors import Actor
from loom.platform.security.passwords import hash_password
from loom.platform.storage.system_tables import departments, users, workspaces

DEFAULT_WORKSPACE = "default"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
# the sizes of the users and departments columns
TEXT_LIMITS = {"email": 320, "name": 200, "manager": 320, "department": 200, "locale": 10}


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


def _check_new_user(new: NewUser) -> list[Problem]:
    problems = []
    if not EMAIL.match(new.email or ""):
        problems.append(Problem("email", "a valid email address is required"))
    if not (new.name or "").strip():
        problems.append(Problem("name", "a name is required"))
    for field, longest in TEXT_LIMITS.items():
        text = getattr(new, field) or ""
        if len(text) > longest:  # the column's size: PostgreSQL would refuse, not cut
            problems.append(Problem(field, f"at most {longest} characters"))
        if "\x00" in text:  # PostgreSQL text cannot hold U+0000
            problems.append(Problem(field, "must not contain a NUL character"))
    if new.password is not None and len(new.password) < MIN_PASSWORD:
        problems.append(Problem("password", f"the password needs at least {MIN_PASSWORD} "
                                            "characters"))
    return problems


async def create_user(conn: AsyncConnection, workspace_id: int, new: NewUser,
                      clock: Clock) -> dict[str, Any]:
    """Create a user in a workspace; the email is the login and must be unused."""
    problems = _check_new_user(new)
    if problems:
        raise ValidationFailed("The user cannot be created", problems)
    email = new.email.strip().lower()
    if await conn.scalar(select(users.c.id).where(users.c.email == email)) is not None:
        raise Conflict(f"A user with the email {email} already exists",
                       [Problem("email", "already used")])
    manager_id = None
    if new.manager:
        manager_id = await conn.scalar(select(users.c.id).where(
            users.c.email == new.manager.strip().lower(), users.c.workspace_id == workspace_id))
        if manager_id is None:
            raise ValidationFailed("The user cannot be created",
                                   [Problem("manager", f"there is no user {new.manager}")])
    department_id = None
    if new.department:
        department_id = await ensure_department(conn, workspace_id, new.department, clock)
    values = dict(workspace_id=workspace_id, email=email, name=new.name.strip(),
                  password_hash=hash_password(new.password) if new.password else None,
                  is_admin=new.is_admin, active=True, manager_id=manager_id,
                  department_id=department_id, locale=new.locale, created_at=clock.now())
    user_id = (await conn.execute(insert(users).values(**values)
                                  .returning(users.c.id))).scalar_one()
    return await get_user(conn, workspace_id, user_id)


async def get_user(conn: AsyncConnection, workspace_id: int, user_id: int) -> dict[str, Any]:
    row = (await conn.execute(select(users).where(
        users.c.id == user_id, users.c.workspace_id == workspace_id))).mappings().first()
    if row is None:
        raise NotFound(f"There is no user {user_id}")
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
