"""Users of the workspace (administrators manage them; everyone may read their own)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from loom.metamodel.errors import Problem, ValidationFailed
from loom.metamodel.i18n import message
from loom.platform.api.context import command, services
from loom.platform.api.guards import RowId
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.api.routes.operations import ACCEPTED, launch, queue
from loom.platform.apps.service import require_admin
from loom.platform.inbox.reassign import REASSIGNERS
from loom.platform.operations import Progress
from loom.platform.records.handover import INLINE_RECORDS, deactivate, handed_over
from loom.platform.security.user_edits import update_user
from loom.platform.security.users import NewUser, create_user, get_user, list_users

router = APIRouter(tags=["users"])
HANDOVER_KIND = "records_handover"


class UserIn(BaseModel):
    email: str
    name: str
    password: str | None = None
    manager: str | None = None
    department: str | None = None
    is_admin: bool = False
    locale: str | None = None


class UserChange(BaseModel):
    """Only the fields sent change; null clears manager, department and locale."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    manager: str | None = None
    department: str | None = None
    locale: str | None = None
    is_admin: bool | None = None
    active: bool | None = None


class Deactivation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reassign_to: str | None = None


@router.get("/api/users", summary="List the workspace's users")
async def get_users(request: Request) -> Any:
    async with command(request, write=False) as (conn, actor):
        require_admin(actor)
        return LoomJSONResponse({"items": await list_users(conn, actor.workspace_id)})


@router.post("/api/users", status_code=201, summary="Create a user")
async def post_user(request: Request, body: UserIn) -> Any:
    async with command(request, write=True) as (conn, actor):
        require_admin(actor)
        user = await create_user(conn, actor.workspace_id, NewUser(**body.model_dump()),
                                 services(request).clock, actor=actor)
    return LoomJSONResponse(user, status_code=201)


@router.get("/api/users/{user_id}", summary="One user (admins: anyone; others: themselves)")
async def get_one_user(request: Request, user_id: RowId) -> Any:
    async with command(request, write=False) as (conn, actor):
        if user_id != actor.user_id:
            require_admin(actor)
        return LoomJSONResponse(await get_user(conn, actor.workspace_id, user_id))


@router.patch("/api/users/{user_id}", summary="Change a user (admin)")
async def patch_user(request: Request, user_id: RowId, body: UserChange) -> Any:
    async with command(request, write=True) as (conn, actor):
        require_admin(actor)
        changes = {field: getattr(body, field) for field in body.model_fields_set}
        unset = [Problem(field, message("not_boolean", label=field))
                 for field in ("is_admin", "active") if field in changes
                 and changes[field] is None]
        if unset:
            raise ValidationFailed(message("user_not_changed"), unset)
        user = await update_user(conn, actor, user_id, changes, services(request).clock)
    return LoomJSONResponse(user)


@router.post("/api/users/{user_id}/deactivate",
             summary="Deactivate a departed user; hand their open tasks and the records "
             f"they own to reassign_to (admin). Up to {INLINE_RECORDS} records are handed "
             "over before the answer; more, in the background (202: follow the operation, "
             "whose result says what moved)", responses=ACCEPTED)
async def post_deactivate(request: Request, user_id: RowId,
                          body: Deactivation | None = None) -> Any:
    svc = services(request)
    operation_id = None
    async with command(request, write=True) as (conn, actor):
        require_admin(actor)
        result, handover = await deactivate(conn, svc, actor, user_id, svc.clock.now(),
                                            body.reassign_to if body else None, REASSIGNERS)
        if handover is not None and handover.count > INLINE_RECORDS:
            operation_id = await queue(request, conn, actor, HANDOVER_KIND, app_id=None,
                                       params={"user": user_id, "to": result["reassigned_to"],
                                               "records": handover.count})
    if handover is None:
        return LoomJSONResponse(result)
    if operation_id is None:
        return LoomJSONResponse(handed_over(result, await handover.move(svc)))

    async def work(progress: Progress) -> dict[str, Any]:
        return await handover.move(svc, progress)

    operation = await launch(request, actor, operation_id, work)
    return LoomJSONResponse({**result, "operation": operation}, status_code=202,
                            headers={"Location": operation["url"]})
