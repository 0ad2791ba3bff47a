"""Flow instances: start one by hand, see a record's instances with their history, withdraw."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from loom.engines.field_values.coercion import MAX_ID
from loom.metamodel.errors import NotFound, PermissionDenied
from loom.metamodel.i18n import localize, message
from loom.platform.api.context import command, services
from loom.platform.api.guards import RowId, StoredText
from loom.platform.api.problems import refusals, request_locale
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.apps.service import require_admin
from loom.platform.compiled.conditions import environment
from loom.platform.flows import store
from loom.platform.flows.instance import Instance
from loom.platform.flows.migration import migrate
from loom.platform.outbox.notifications import shown_texts
from loom.platform.security.permissions import authorize, require_reach, within_reach
from loom.platform.storage.system_tables import tasks, users

router = APIRouter(tags=["flows"])
PREFIX = "/api/apps/{app}/flow-instances"
# ids are 64-bit rows: a larger number would fail in the database, not miss


class StartIn(BaseModel):
    flow: str = Field(description="The flow's name")
    record_id: int = Field(ge=1, le=2**63 - 1)


class MigrateIn(BaseModel):
    version: int | None = Field(default=None, ge=1, le=2**31 - 1,
                                description="Default: the app's current version")
    mapping: dict[StoredText, StoredText] = Field(default_factory=dict,
                                    description="old node → new node, for nodes renamed")


class WithdrawIn(BaseModel):
    comment: StoredText | None = Field(default=None, max_length=2000)


def _describe(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in ("id", "flow", "entity", "record_id", "status", "outcome",
                                      "initiator_id", "app_version", "version", "started_at",
                                      "ended_at")}


async def _full(conn: Any, row: dict[str, Any], locale: str,
                runtime: Any = None) -> dict[str, Any]:
    out = _describe(row)
    out["history"] = await store.history(conn, row["id"])
    activations = await store.active_activations(conn, row["id"])
    out["waiting_at"] = [a["node"] for a in activations]
    if runtime is not None:  # labels in the reader's language, for people to read
        out.update(flow_labels(runtime, row["flow"], out["waiting_at"], locale))
    out["incidents"] = [{"node": a["node"], "error": a["state"].get("error"),
                         "attempts": a["state"].get("attempts"),
                         "retrying": not a["state"].get("incident")}
                        for a in activations if a["state"].get("failed")]
    ids = [a["id"] for a in activations]
    rows = (await conn.execute(select(tasks).where(tasks.c.activation_id.in_(ids),
                                                   tasks.c.status == "open")
                               .order_by(tasks.c.id))).mappings().all() if ids else []
    names = await _names(conn, {t["assignee_id"] for t in rows if t["assignee_id"]})
    out["open_tasks"] = [{"id": t["id"], "title": shown_texts(t, ("title",), locale)["title"],
                          "assignee_id": t["assignee_id"],
                          "assignee_name": names.get(t["assignee_id"]),
                          "candidates": t["candidates"], "due_at": t["due_at"]} for t in rows]
    return out


def flow_labels(runtime: Any, flow: str, nodes: list[str], locale: str) -> dict[str, Any]:
    """The flow's label and those of the nodes it waits at (names where none is set)."""
    compiled = runtime.flows.get(flow)
    spec = compiled.spec if compiled is not None else None
    label = localize(spec.label, locale) if spec is not None and spec.label else flow
    waiting = []
    for node in nodes:
        found = spec.nodes.get(node) if spec is not None else None
        waiting.append({"node": node,
                        "label": localize(getattr(found, "label", None), locale) or node})
    return {"label": label, "waiting": waiting}


async def _names(conn: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await conn.execute(select(users.c.id, users.c.name).where(users.c.id.in_(ids)))
    return {row.id: row.name for row in rows}


async def _running(svc: Any, conn: Any, actor: Any, app: str,
                   instance_id: int) -> tuple[Any, Instance]:
    """The app's current version and one of its running instances, locked, on the
    version it is pinned to."""
    current = await svc.apps.runtime(conn, actor, app)

    async def runtime_of(row: Any) -> Any:
        _of_app(row, current)
        return await svc.apps.runtime_at(conn, row["app_id"], row["app_version"])

    instance = await svc.flows.instance_for(conn, runtime_of, actor, instance_id,
                                            svc.clock.now())
    return current, instance


@router.post(PREFIX, status_code=201, summary="Start a flow on a record",
             responses=refusals(404, 409, body=True))
async def start_flow(request: Request, app: str, body: StartIn) -> Any:
    svc = services(request)
    async with command(request, write=True) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        entity = runtime.flows[body.flow].spec.entity if body.flow in runtime.flows else None
        if entity is not None:
            access = await authorize(conn, actor, runtime, entity, "update")
            await require_reach(conn, runtime, actor, access, entity, body.record_id, "update",
                                svc.clock.now())
        instance_id = await svc.flows.start(conn, runtime, actor, body.flow, body.record_id,
                                            svc.clock.now())
        row = await store.load_instance(conn, actor.workspace_id, instance_id, running=False)
        return LoomJSONResponse(await _full(conn, row, request_locale(request), runtime),
                                status_code=201)


@router.get(PREFIX, summary="Flow instances of an app (or of one record)",
            responses=refusals(404))
async def list_instances(request: Request, app: str, entity: str | None = None,
                         record: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                         status: str | None = None) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        if entity is not None:
            await authorize(conn, actor, runtime, entity, "read")
        rows = await store.list_instances(conn, actor.workspace_id, runtime.app_id,
                                          entity=entity, record_id=record, status=status)
        now = svc.clock.now()
        visible = [row for row in rows
                   if await _may_read(conn, actor, runtime, row["entity"], row["record_id"],
                                      now)]
        locale = request_locale(request)
        return LoomJSONResponse({"items": [await _full(conn, row, locale, runtime)
                                           for row in visible]})


async def _may_read(conn: Any, actor: Any, runtime: Any, entity: str, record_id: int,
                    now: Any) -> bool:
    """Whether the actor may see the record a flow instance runs on."""
    try:
        access = await authorize(conn, actor, runtime, entity, "read")
    except PermissionDenied:
        return False
    return await within_reach(conn, runtime, access, entity, record_id,
                              environment(runtime, actor, now))


def _of_app(row: dict[str, Any], runtime: Any) -> dict[str, Any]:
    if row["app_id"] != runtime.app_id:
        raise NotFound(message("flow_instance_not_found", id=row["id"]))
    return row


@router.get(PREFIX + "/{instance_id}", summary="One flow instance with its history",
            responses=refusals(404))
async def get_instance(request: Request, app: str, instance_id: RowId) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        row = _of_app(await store.load_instance(conn, actor.workspace_id, instance_id,
                                                running=False), runtime)
        if not await _may_read(conn, actor, runtime, row["entity"], row["record_id"],
                               svc.clock.now()):
            raise NotFound(message("flow_instance_not_found", id=row["id"]))
        return LoomJSONResponse(await _full(conn, row, request_locale(request), runtime))


@router.post(PREFIX + "/{instance_id}/withdraw", summary="Withdraw a running flow (撤回)",
             responses=refusals(404, 409, body=True))
async def withdraw(request: Request, app: str, instance_id: RowId,
                   body: WithdrawIn | None = None) -> Any:
    svc = services(request)
    async with command(request, write=True) as (conn, actor):
        _current, instance = await _running(svc, conn, actor, app, instance_id)
        await svc.flows.withdraw(instance, body.comment if body else None)
        return LoomJSONResponse(await _full(conn, instance.row, request_locale(request)))


@router.post(PREFIX + "/{instance_id}/retry", summary="Retry failed action nodes (admin)",
             responses=refusals(404, 409))
async def retry(request: Request, app: str, instance_id: RowId) -> Any:
    svc = services(request)
    async with command(request, write=True) as (conn, actor):
        require_admin(actor)
        _current, instance = await _running(svc, conn, actor, app, instance_id)
        retried = await svc.flows.retry_incidents(instance)
        await svc.flows.save(instance)
        return LoomJSONResponse({**await _full(conn, instance.row, request_locale(request)),
                                 "retried": retried})


@router.post(PREFIX + "/{instance_id}/migrate",
             summary="Move a running instance to another version (admin)",
             responses=refusals(404, 409, body=True))
async def migrate_instance(request: Request, app: str, instance_id: RowId,
                           body: MigrateIn) -> Any:
    svc = services(request)
    async with command(request, write=True) as (conn, actor):
        require_admin(actor)
        current, instance = await _running(svc, conn, actor, app, instance_id)
        target = current if body.version is None else await svc.apps.runtime_at(
            conn, current.app_id, body.version)
        moved = await migrate(instance, target, body.mapping)
        return LoomJSONResponse({**await _full(conn, instance.row, request_locale(request)),
                                 "migrated": moved})
