"""An app's jobs over HTTP: list them with their schedule and last run, run one on demand
as of a date, and read its runs. For administrators and the app's builders."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError
from sqlalchemy import func, select

from loom.metamodel.errors import Problem, ValidationFailed
from loom.metamodel.i18n import message, register_messages
from loom.metamodel.validation import format_path
from loom.platform.api.context import command, json_body, services
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.api.routes.operations import ACCEPTED, accepted, launch, queue
from loom.platform.jobs import runs
from loom.platform.jobs.runner import JobRunner, job_spec
from loom.platform.operations import Progress, Step

router = APIRouter(tags=["jobs"])
RUN_KIND = "job_run"
INLINE_SUBJECTS = 5_000  # a run over more records of its subject runs as an operation

register_messages({
    "job_run_invalid": {"en": "The request to run a job has problems",
                        "zh-CN": "运行任务的请求有误"},
})


class RunIn(BaseModel):
    """As of which date the job computes (default: today in the job's time zone)."""

    model_config = ConfigDict(extra="forbid")

    as_of: date | None = Field(default=None, description="YYYY-MM-DD")


RUN_BODY = {"requestBody": {"required": False, "content": {
    "application/json": {"schema": RunIn.model_json_schema()}}}}


async def _read_run(request: Request) -> RunIn:
    body = await json_body(request) if await request.body() else {}
    try:
        return RunIn.model_validate(body)
    except PydanticError as exc:
        raise ValidationFailed(message("job_run_invalid"), [
            Problem(format_path(err["loc"]) or None, err["msg"]) for err in exc.errors()
        ]) from None


def _job_info(name: str, job: Any, last: dict[str, Any] | None) -> dict[str, Any]:
    schedule = job.schedule.model_dump(mode="json") if job.schedule else None
    return {"name": name, "kind": job.kind, "label": job.label, "subject": job.subject,
            "enabled": job.enabled, "schedule": schedule, "last_run": last}


@router.get("/api/apps/{app}/jobs", summary="The app's jobs, their schedules and last runs")
async def list_jobs(request: Request, app: str) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        await svc.apps.require_builder(conn, actor, app)
        runtime = await svc.apps.runtime(conn, actor, app)
        last = await runs.last_runs(conn, runtime.app_id)
    return LoomJSONResponse({"items": [_job_info(name, job, last.get(name))
                                       for name, job in runtime.doc.jobs.items()]})


@router.post("/api/apps/{app}/jobs/{job}/run", openapi_extra=RUN_BODY,
             summary="Run a job now, as of a date; the run's counts, means and thresholds "
             f"(a job over more than {INLINE_SUBJECTS} records runs in the background: 202, "
             "follow the operation, whose result is the run)", responses=ACCEPTED)
async def run_job(request: Request, app: str, job: str) -> Any:
    svc = services(request)
    wanted = await _read_run(request)
    # the check in a short read; the run opens its own transactions
    async with command(request, write=False, scope="write") as (conn, actor):
        await svc.apps.require_builder(conn, actor, app)
        runtime = await svc.apps.runtime(conn, actor, app)
        spec = job_spec(runtime, job)
        subjects = await conn.scalar(select(func.count()).select_from(
            runtime.tables[spec.subject])) or 0
    if subjects <= INLINE_SUBJECTS:
        return LoomJSONResponse(await JobRunner(svc).run(runtime, job, as_of=wanted.as_of,
                                                         actor=actor))
    async with svc.database.write() as conn:
        operation_id = await queue(request, conn, actor, RUN_KIND, app_id=runtime.app_id,
                                   params={"job": job, "as_of": wanted.as_of,
                                           "subjects": subjects})

    async def work(progress: Progress) -> dict[str, Any]:
        progress.note(0, step=Step(job, spec.label or job))
        return await JobRunner(svc).run(runtime, job, as_of=wanted.as_of, actor=actor) or {}

    return accepted(await launch(request, actor, operation_id, work))


@router.get("/api/apps/{app}/jobs/{job}/runs", summary="A job's runs, newest first")
async def job_runs(request: Request, app: str, job: str,
                   limit: Annotated[int, Query(ge=1, le=500)] = 50,
                   before: Annotated[int | None, Query(ge=1, le=2**62,
                                                       description="A run id")] = None) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        await svc.apps.require_builder(conn, actor, app)
        runtime = await svc.apps.runtime(conn, actor, app)
        job_spec(runtime, job)
        items = await runs.list_runs(conn, runtime.app_id, job, limit=limit, before=before)
    return LoomJSONResponse({"items": items})
