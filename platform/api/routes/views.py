"""This app as its reader may use it (``/schema``), saved views (list and kanban), forms,
and a record's 360° view with its related lists — everything read through the one
permission layer, as the records API reads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from loom.platform.api.context import command, json_body, services
from loom.platform.api.guards import RowId
from loom.platform.api.problems import refusals, request_locale
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.api.routes.records import parse_filter
from loom.platform.apps.reader import reader_of
from loom.platform.records.forms import check_form, form_for, list_forms
from loom.platform.records.reference_titles import reference_titles
from loom.platform.records.related import record_with_related
from loom.platform.records.views import list_views, open_view
from loom.renderers.reader_schema import reader_schema

router = APIRouter(tags=["views"])
APP = "/api/apps/{app}"
OBJECT_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object"}}}}}


@router.get(APP + "/views", summary="The views you may open", responses=refusals(404))
async def views(request: Request, app: str) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        items = await list_views(conn, runtime, actor, request_locale(request))
    return LoomJSONResponse({"items": items})


@router.get(APP + "/views/{name}", summary="Open a view: a page of a list, or a kanban",
            responses=refusals(404))
async def view(request: Request, app: str, name: str,
               limit: int | None = Query(default=None, description="Records per page (per "
                                         "column on a kanban); the view's page size if absent"),
               cursor: str | None = Query(default=None, description="next_cursor of the "
                                          "previous page (kanban: with group)"),
               filter: str | None = Query(default=None, description="JSON Logic: narrows "
                                          "the view"),
               group: str | None = Query(default=None, description="kanban: one column only "
                                         "(an option value; empty for the blanks)"),
               q: str | None = Query(default=None, description="Quick search within the "
                                     "view"),
               sort: str | None = Query(default=None, description="e.g. -amount,name: "
                                        "instead of the view's own order"),
               count: bool = Query(default=True, description="Count the records (capped); "
                                   "later pages may leave it out"),
               titles: bool = Query(default=False, description="Add `titles`: the names "
                                    "of the records, people and departments referenced")
               ) -> Any:
    rule = parse_filter(filter)
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        body = await open_view(conn, runtime, actor, name, svc.clock.now(),
                               locale=request_locale(request), limit=limit, cursor=cursor,
                               rule=rule, group=group, search=q, sort=sort, count=count)
        if titles:
            items = body.get("items") or [card for lane in body["columns"]
                                          for card in lane.get("items", [])]
            body["titles"] = await reference_titles(conn, runtime, actor,
                                                    body["view"]["entity"], items,
                                                    svc.clock.now())
    return LoomJSONResponse(body)


@router.get(APP + "/schema", summary="This app as you may use it: the entities you may read "
            "with the fields you see, and the views, forms and dashboards you may open, "
            "localized", responses=refusals(404))
async def schema(request: Request, app: str) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
    return LoomJSONResponse(reader_schema(runtime.doc, slug=runtime.slug,
                                          version=runtime.version,
                                          reader=reader_of(runtime, actor),
                                          locale=request_locale(request)),
                            headers={"X-Loom-Version": str(runtime.version)})


@router.get(APP + "/forms", summary="The forms of the entities you may read",
            responses=refusals(404))
async def forms(request: Request, app: str) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        items = await list_forms(conn, runtime, actor, request_locale(request))
    return LoomJSONResponse({"items": items})


@router.get(APP + "/forms/{name}", summary="A form's layout and conditions, localized",
            responses=refusals(404))
async def form(request: Request, app: str, name: str) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        body = await form_for(conn, runtime, actor, name, request_locale(request),
                              svc.settings.max_body_bytes)
    return LoomJSONResponse(body)


@router.post(APP + "/forms/{name}/check", summary="Which fields are visible, required and "
             "read-only for these values, and what is missing", openapi_extra=OBJECT_BODY,
             responses=refusals(404, body=True))
async def check(request: Request, app: str, name: str) -> Any:
    data = await json_body(request)
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        body = await check_form(conn, runtime, actor, name, data, svc.clock.now(),
                                request_locale(request))
    return LoomJSONResponse(body)


@router.get(APP + "/records/{entity}/{record_id}/related",
            summary="A record with its actions (can each run now, and why not) and its "
            "related lists (the 360° view)", responses=refusals(404))
async def related(request: Request, app: str, entity: str, record_id: RowId,
                  form: str | None = Query(default=None, description="The form whose related "
                                           "lists to show; every lookup to this entity if "
                                           "absent"),
                  limit: int | None = Query(default=None, description="Records per list")
                  ) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        body = await record_with_related(conn, runtime, actor, entity, record_id,
                                         svc.clock.now(), locale=request_locale(request),
                                         form=form, limit=limit)
    return LoomJSONResponse(body)
