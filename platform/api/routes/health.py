"""Liveness, readiness and the workers' health.

``/api/health/live``: the process answers (a supervisor restarts it when not).
``/api/health/ready``: it can do its work — the database answers, its schema is this
Loom's (``behind``: run ``loom db upgrade``; ``ahead``: a newer Loom upgraded it), and a
worker is alive (unless ``LOOM_READY_NEEDS_WORKER`` is false); 503 naming what is not.
``/api/health`` is the database check alone, as before. ``/api/admin/workers``: each
worker's heartbeat, for administrators.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text

from loom.platform.api.context import command, services
from loom.platform.api.problems import COMMAND_REFUSALS, refusals
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.apps.service import require_admin
from loom.platform.storage.migrate import current_revision, head_revision, known_revisions
from loom.platform.worker_heartbeat import workers

router = APIRouter(tags=["platform"])

HEALTH = {"type": "object", "required": ["status", "database"], "properties": {
    "status": {"enum": ["ok", "degraded"]}, "database": {"enum": ["ok", "unavailable"]}}}
READY = {"type": "object", "required": ["status", "checks"], "properties": {
    "status": {"enum": ["ready", "not_ready"]},
    "checks": {"type": "object", "properties": {
        "database": {"enum": ["ok", "unavailable"]},
        "migrations": {"enum": ["current", "behind", "ahead", "unknown"]},
        "worker": {"enum": ["alive", "stale", "stopped", "missing", "unknown"]}}}}}


async def _database_ok(request: Request) -> bool:
    try:
        async with services(request).database.read() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:  # the answer is the health report, not an error page
        return False
    return True


@router.get("/api/health", summary="Health of the service and its database", responses={
    200: {"content": {"application/json": {"schema": HEALTH}}},
    503: {"description": "The database cannot be reached",
          "content": {"application/json": {"schema": HEALTH}}}})
async def health(request: Request) -> Any:
    ok = await _database_ok(request)
    return LoomJSONResponse({"status": "ok" if ok else "degraded",
                             "database": "ok" if ok else "unavailable"},
                            status_code=200 if ok else 503)


@router.get("/api/health/live", summary="The process answers", responses={
    200: {"content": {"application/json": {"schema": {"type": "object"}}}}})
async def live() -> Any:
    return {"status": "alive"}


@router.get("/api/health/ready", summary="Ready for work: database, schema, worker",
            responses={200: {"content": {"application/json": {"schema": READY}}},
                       503: {"description": "Something it needs is not there (named)",
                             "content": {"application/json": {"schema": READY}}}})
async def ready(request: Request) -> Any:
    svc = services(request)
    checks = {"database": "unavailable", "migrations": "unknown", "worker": "unknown"}
    if await _database_ok(request):
        checks["database"] = "ok"
        with suppress(Exception):  # a check that cannot be made stays "unknown"
            found = await current_revision(svc.database)
            checks["migrations"] = "current" if found == head_revision() else \
                "behind" if found is None or found in known_revisions() else "ahead"
            async with svc.database.read() as conn:
                seen = await workers(conn, svc.clock.now(), _stale(request))
            # one alive worker is enough; else a killed one (stale) says more than a stopped
            statuses = {worker["status"] for worker in seen}
            checks["worker"] = next((status for status in ("alive", "stale", "stopped")
                                     if status in statuses), "missing")
    needed = ["database", "migrations"] + (["worker"] if svc.settings.ready_needs_worker
                                           else [])
    good = {"database": "ok", "migrations": "current", "worker": "alive"}
    is_ready = all(checks[name] == good[name] for name in needed)
    return LoomJSONResponse({"status": "ready" if is_ready else "not_ready", "checks": checks},
                            status_code=200 if is_ready else 503)


def _stale(request: Request) -> timedelta:
    return timedelta(seconds=services(request).settings.worker_stale_seconds)


@router.get("/api/admin/workers", summary="The workers' heartbeats (administrators)",
            responses=refusals(*COMMAND_REFUSALS))
async def get_workers(request: Request) -> Any:
    """Every worker that has run: when it started, last showed it is alive and finished a
    round, what that round did or why it failed; status alive, stale or stopped."""
    async with command(request, write=False) as (conn, actor):
        require_admin(actor)
        found = await workers(conn, services(request).clock.now(), _stale(request))
    return {"items": found, "stale_after_seconds": int(_stale(request).total_seconds())}
