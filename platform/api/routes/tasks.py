"""The task inbox of an app: ``GET /api/apps/{app}/tasks`` and acting on one task,
``POST /api/apps/{app}/tasks/{id}/actions`` — a rule's to-do or a flow's task alike."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from pydantic import ValidationError as PydanticError

from loom.engines.field_values.coercion import MAX_ID
from loom.metamodel.errors import Problem, ValidationFailed
from loom.metamodel.i18n import message, register_messages
from loom.metamodel.validation import format_path
from loom.platform.api.context import command, etag, if_match, json_body, services
from loom.platform.api.guards import RowId, StoredText
from loom.platform.api.problems import refusals, request_locale
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.inbox.actions import TaskCommand, act_on_task, visible_tasks
from loom.platform.inbox.view import task_view

router = APIRouter(tags=["tasks"])

register_messages({
    "task_request_invalid": {"en": "The task request has problems",
                             "zh-CN": "任务请求有误"},
    "task_bad_assignee": {"en": "assignee must be 'me' or a user id",
                          "zh-CN": "assignee 必须是 me 或用户 id"},
})


class TaskActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: StoredText = Field(max_length=40, description="complete (a rule's to-do); flow tasks: "
                        "approve, reject, send_back, transfer, add_approver, claim, complete")
    comment: StoredText | None = Field(default=None, max_length=4000)
    target_node: StoredText | None = Field(default=None, max_length=40,
                                    description="send_back: the node (default: the start)")
    user: Annotated[StrictInt, Field(ge=1, le=MAX_ID)] | Annotated[
        StoredText, Field(max_length=320)] | None = Field(
        default=None, description="transfer / add_approver: a user's id or email")
    position: Literal["before", "after", "parallel"] = Field(
        default="parallel", description="add_approver: before, after or with this task")
    values: dict[str, Any] | None = Field(
        default=None, description="flow tasks: record fields filled in at this step (those "
        "the node's field_permissions make writable), saved with the decision")


ACTION_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": TaskActionIn.model_json_schema()}}}}


def _assignee(value: str | None, user_id: int | None) -> int | None:
    if value is None:
        return None
    if value == "me":
        return user_id if user_id is not None else -1
    if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID:
        return int(value)
    text = message("task_bad_assignee")
    raise ValidationFailed(message("task_request_invalid"), [Problem("assignee", text)])


@router.get("/api/apps/{app}/tasks", summary="Tasks (yours, or anyone's for admins)",
            responses=refusals(404))
async def list_app_tasks(request: Request, app: str,
                         assignee: Annotated[str | None, Query(
                             description="me, or a user id")] = None,
                         status: Literal["open", "done"] | None = None,
                         entity: str | None = None,
                         record: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                         limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        items = await visible_tasks(conn, runtime, actor,
                                    assignee_id=_assignee(assignee, actor.user_id),
                                    status=status, entity=entity, record_id=record,
                                    limit=limit, now=svc.clock.now(),
                                    locale=request_locale(request))
    return LoomJSONResponse({"items": items})


@router.get("/api/apps/{app}/tasks/{task_id}",
            summary="One task with its record, as the step shows it",
            responses=refusals(404))
async def get_app_task(request: Request, app: str, task_id: RowId) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        view = await task_view(conn, runtime, actor, task_id, svc.pipeline,
                               svc.apps.runtime_at, request_locale(request))
    return LoomJSONResponse(view, headers={"ETag": etag(view["task"]["version"])})


@router.post("/api/apps/{app}/tasks/{task_id}/actions",
             summary="Act on a task (complete; If-Match: version)",
             responses=refusals(404, 409, body=True), openapi_extra=ACTION_BODY)
async def task_action(request: Request, app: str, task_id: RowId) -> Any:
    body = await json_body(request)
    try:
        wanted = TaskActionIn.model_validate(body)
    except PydanticError as exc:
        raise ValidationFailed(message("task_request_invalid"), [
            Problem(format_path(err["loc"]) or None, err["msg"]) for err in exc.errors()
        ]) from None
    svc = services(request)
    expected = if_match(request)
    async with command(request, write=True) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        task = await act_on_task(conn, runtime, actor, task_id,
                                 TaskCommand(**wanted.model_dump()), now=svc.clock.now(),
                                 flows=svc.flows, runtime_at=svc.apps.runtime_at,
                                 locale=request_locale(request), expected_version=expected)
    return LoomJSONResponse(task, headers={"ETag": etag(task["version"])})
