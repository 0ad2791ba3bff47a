"""Rules seen from outside: the traces of their runs ("why did this fire?") and trying a
rule before trusting it — a dry run on one record, or a count of the records it would
match. Both are for administrators: traces show any record's values."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from pydantic import ValidationError as PydanticError

from loom.engines.field_values.coercion import MAX_ID
from loom.metamodel.errors import Problem, ValidationFailed
from loom.metamodel.i18n import message, register_messages
from loom.metamodel.validation import format_path, parse_document
from loom.platform.api.context import command, json_body, services
from loom.platform.api.problems import refusals, request_locale
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.apps.service import require_admin
from loom.platform.rules import trial
from loom.platform.rules.traces import list_traces

router = APIRouter(tags=["rules"])
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]

register_messages({
    "try_invalid": {"en": "The request to try a rule has problems",
                    "zh-CN": "试运行规则的请求有误"},
    "try_one_subject": {
        "en": "give exactly one of record_id (a stored record), record (field values) "
        "or preview: true (count the matching records)",
        "zh-CN": "请只给出以下之一：record_id（已保存的记录）、record（字段值）"
        "或 preview: true（统计符合条件的记录）",
    },
    "try_rule_or_draft": {"en": "give either a rule definition or draft: true, not both",
                          "zh-CN": "规则定义与 draft: true 只能二选一"},
})


class TryIn(BaseModel):
    """What to try the rule on, and which version of the rule."""

    model_config = ConfigDict(extra="forbid")

    record_id: RecordId | None = Field(default=None, description="A stored record")
    record: dict[str, Any] | None = Field(default=None,
                                          description="Field values of a record not stored")
    preview: StrictBool = Field(default=False,
                                description="Count the stored records the condition holds for")
    days: Annotated[int, Field(ge=1, le=3650)] | None = Field(
        default=None, description="preview: only records created (for a create rule) or "
        "changed (otherwise) in the last N days — what the rule would have fired on")
    rule: dict[str, Any] | None = Field(default=None,
                                        description="A rule definition to try instead")
    draft: StrictBool = Field(default=False, description="Try the rule of the app's draft")


TRY_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": TryIn.model_json_schema()}}}}


def _read_try(body: Any) -> TryIn:
    """The body as TryIn; every problem named by its field."""
    try:
        wanted = TryIn.model_validate(body)
    except PydanticError as exc:
        raise ValidationFailed(message("try_invalid"), [
            Problem(format_path(err["loc"]) or None, err["msg"]) for err in exc.errors()
        ]) from None
    subjects = [wanted.record_id is not None, wanted.record is not None, wanted.preview]
    if sum(subjects) != 1:
        field = "preview" if wanted.preview else "record_id"
        raise ValidationFailed(message("try_invalid"),
                               [Problem(field, message("try_one_subject"))])
    if wanted.rule is not None and wanted.draft:
        raise ValidationFailed(message("try_invalid"),
                               [Problem("draft", message("try_rule_or_draft"))])
    return wanted


@router.get("/api/apps/{app}/rule-runs", summary="Rule runs, newest first (admin)",
            responses=refusals(404))
async def rule_runs(request: Request, app: str, entity: str | None = None,
                    record: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                    rule: str | None = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        require_admin(actor)
        runtime, actor = await svc.apps.enter(conn, actor, app)
        items = await list_traces(conn, runtime.app_id, request_locale(request),
                                  entity=entity, record_id=record, rule=rule, limit=limit)
    return LoomJSONResponse({"items": items})


@router.post("/api/apps/{app}/rules/{name}/try", summary="Dry-run a rule (admin)",
             responses=refusals(404, 409, body=True), openapi_extra=TRY_BODY)
async def try_rule(request: Request, app: str, name: str) -> Any:
    wanted = _read_try(await json_body(request))
    svc = services(request)
    now = svc.clock.now()
    async with command(request, write=not wanted.preview) as (conn, actor):
        require_admin(actor)
        runtime, actor = await svc.apps.enter(conn, actor, app)
        if wanted.rule is not None:
            rule = trial.proposed_rule(runtime, name, wanted.rule)
        elif wanted.draft:
            document, _revision = await svc.apps.draft(conn, actor, app)
            rule = trial.draft_rule(runtime, name, parse_document(document))
        else:
            rule = trial.published_rule(runtime, name)
        if wanted.preview:
            return LoomJSONResponse(await trial.preview(conn, runtime, actor, rule, now,
                                                        days=wanted.days))
        if wanted.record_id is not None:
            found = await trial.try_on_record(conn, svc.rules, runtime, actor, rule,
                                              wanted.record_id, now)
        else:
            found = await trial.try_on_values(conn, svc.rules, runtime, actor, rule,
                                              wanted.record, now)
    return LoomJSONResponse(_trial_json(request, found))


def _trial_json(request: Request, found: trial.Trial) -> dict[str, Any]:
    body: dict[str, Any] = {"matched": found.matched, "inputs": found.inputs,
                            "actions": found.actions}
    if found.record is not None:
        body["record"] = found.record
    if found.failure is not None:
        locale = request_locale(request)
        body["failed"] = {"status": found.failure.status,
                          "detail": found.failure.render_detail(locale),
                          "errors": [p.render(locale) for p in found.failure.problems]}
    return body
