"""The people of the workspace, as colleagues see them: for choosing an owner, an assignee
or a department in a form or a filter."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import or_, select

from loom.platform.api.context import command
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.storage.system_tables import departments, users

router = APIRouter(tags=["users"])
MAX_PEOPLE = 50


def _ids(text: str | None) -> list[int]:
    return [int(part) for part in (text or "").split(",")
            if part.strip().isdigit() and len(part.strip()) < 19][:MAX_PEOPLE]


@router.get("/api/people", summary="Colleagues by name or email (active people only)")
async def people(request: Request,
                 q: str | None = Query(default=None, max_length=100),
                 ids: str | None = Query(default=None, max_length=1000,
                                         description="e.g. 3,7: these people"),
                 limit: int = Query(default=20, ge=1, le=MAX_PEOPLE)) -> Any:
    async with command(request, write=False) as (conn, actor):
        query = select(users.c.id, users.c.name, users.c.email,
                       departments.c.name.label("department")).outerjoin(
            departments, departments.c.id == users.c.department_id).where(
            users.c.workspace_id == actor.workspace_id, users.c.active.is_(True))
        if ids is not None:
            query = query.where(users.c.id.in_(_ids(ids)))
        for word in (q or "").split():
            query = query.where(or_(users.c.name.icontains(word, autoescape=True),
                                    users.c.email.icontains(word, autoescape=True)))
        rows = await conn.execute(query.order_by(users.c.name, users.c.id).limit(limit))
        return LoomJSONResponse({"items": [dict(row._mapping) for row in rows]})


@router.get("/api/departments", summary="The workspace's departments")
async def department_list(request: Request,
                          q: str | None = Query(default=None, max_length=100)) -> Any:
    async with command(request, write=False) as (conn, actor):
        query = select(departments.c.id, departments.c.name).where(
            departments.c.workspace_id == actor.workspace_id)
        if q:
            query = query.where(departments.c.name.icontains(q, autoescape=True))
        rows = await conn.execute(query.order_by(departments.c.name).limit(200))
        return LoomJSONResponse({"items": [dict(row._mapping) for row in rows]})
