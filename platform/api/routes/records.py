"""Records of an app's entities: list/filter/sort/page, create (one or in bulk), read,
change with optimistic versions, delete, history. Every write goes through the pipeline."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from loom.metamodel.errors import BadRequest
from loom.platform.api.context import (
    app_command,
    etag,
    json_body,
    loads_exact,
    required_version,
    services,
)
from loom.platform.api.guards import RowId
from loom.platform.api.problems import refusals, request_locale
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.records import shares
from loom.platform.records.audit import SHARE_KEY, record_history
from loom.platform.records.context import WriteBudget
from loom.platform.records.reads import (
    DEFAULT_LIMIT,
    ListQuery,
    as_seen,
    get_record,
    list_records,
)
from loom.platform.records.reference_titles import reference_titles
from loom.platform.records.removal import delete_impact
from loom.platform.records.subtable_reads import with_rows
from loom.platform.records.timeline import DEFAULT_LIMIT as DEFAULT_TIMELINE
from loom.platform.records.timeline import MAX_LIMIT as MAX_TIMELINE
from loom.platform.records.timeline import record_timeline
from loom.platform.security.permissions import authorize
from loom.renderers.openapi import IF_MATCH

router = APIRouter(tags=["records"])
PREFIX = "/api/apps/{app}/records/{entity}"
OBJECT_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object"}}}}}
LIST_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}}
MAX_BULK = 1000
TIMELINE_DOC = (
    "`{items, next_cursor}`. Each item: `id`, `type` (`activity` — a record of an entity "
    "marked `activity` pointing at this one —, `created`, `changed`, `shared`, `deleted`, "
    "`restored`, `flow`, `email`, `notification`), `at`, `title` in the reader's "
    "language, `by: {id, name}` or null, and by type: `changes: [{field, label, old, new, "
    "old_text, new_text}]`; `entity`, `record_id`, `subject`, `kind`, `text`; `flow`, "
    "`event`, `node`, `node_label`, `comment`, `assignee`; `subject`, `to`, `cc`, `status`. "
    "Only what the reader may see: the record within their reach, no hidden fields, "
    "activities of entities they may read, their own notifications (administrators: all).")


def parse_filter(text: str | None) -> Any:
    """A list's ``filter`` parameter: JSON Logic, numbers exact."""
    if not text:
        return None
    try:
        return loads_exact(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"filter is not valid JSON Logic: {exc.msg} (column {exc.colno})"
                         ) from None
    except RecursionError:
        raise BadRequest("filter is nested too deeply") from None
    except ValueError as exc:
        raise BadRequest(f"filter is not valid JSON Logic: {exc}") from None


@router.get(PREFIX, name="list_records", summary="List records (filter, sort, keyset pages)")
async def list_(request: Request, app: str, entity: str,
                filter: str | None = Query(default=None, description="JSON Logic condition"),
                sort: str | None = Query(default=None, description="e.g. -amount,name"),
                limit: int = Query(default=DEFAULT_LIMIT),
                cursor: str | None = None,
                fields: str | None = Query(default=None, description="e.g. name,amount"),
                count: bool = False,
                q: str | None = Query(default=None, description="Quick search: records whose "
                                      "names, codes, phones or emails contain every word"),
                titles: bool = Query(default=False, description="Add `titles`: the names "
                                     "of the records, people and departments referenced")
                ) -> Any:
    query = ListQuery(filter=parse_filter(filter), sort=sort, limit=limit, cursor=cursor,
                      fields=[f.strip() for f in fields.split(",") if f.strip()]
                      if fields else None, count=count, search=q)
    svc = services(request)
    async with app_command(request, app, write=False) as (conn, runtime, actor):
        page = await list_records(conn, runtime, actor, entity, query, svc.clock.now())
        body: dict[str, Any] = {"items": page.items, "next_cursor": page.next_cursor}
        if titles:
            body["titles"] = await reference_titles(conn, runtime, actor, entity, page.items,
                                                    svc.clock.now())
    if page.count is not None:
        body.update(count=page.count, count_capped=page.count_capped)
    return LoomJSONResponse(body)


@router.post(PREFIX, status_code=201,
             name="create_record", summary="Create a record", openapi_extra=OBJECT_BODY)
async def create(request: Request, app: str, entity: str) -> Any:
    data = await json_body(request)
    svc = services(request)
    async with app_command(request, app, write=True) as (conn, runtime, actor):
        budget = WriteBudget()
        record = await svc.pipeline.create(conn, runtime, actor, entity, data, budget=budget)
        [record] = await as_seen(conn, runtime, actor, entity, [record], budget=budget)
        record = await with_rows(conn, runtime, actor, entity, record, svc.clock.now())
    return LoomJSONResponse(record, status_code=201, headers={
        "Location": f"/api/apps/{app}/records/{entity}/{record['id']}",
        "ETag": etag(record["version"])})


@router.post(PREFIX + "/_bulk", status_code=201,
             name="create_records", summary="Create many records, all or none",
             openapi_extra=LIST_BODY)
async def bulk(request: Request, app: str, entity: str) -> Any:
    data = await json_body(request)
    if not isinstance(data, list):
        raise BadRequest("_bulk takes a JSON list of records")
    if len(data) > MAX_BULK:
        raise BadRequest(f"_bulk takes at most {MAX_BULK} records per request")
    svc = services(request)
    async with app_command(request, app, write=True) as (conn, runtime, actor):
        budget = WriteBudget.for_batch(len(data))
        records = await svc.pipeline.create_many(conn, runtime, actor, entity, data,
                                                 budget=budget)
        records = await as_seen(conn, runtime, actor, entity, records, budget=budget)
    return LoomJSONResponse({"items": records}, status_code=201)


@router.get(PREFIX + "/{record_id}", name="read_record", summary="Read a record")
async def read(request: Request, app: str, entity: str, record_id: int,
               titles: bool = Query(default=False, description="Add `_titles`: the names "
                                    "of the records, people and departments referenced")
               ) -> Any:
    svc = services(request)
    async with app_command(request, app, write=False) as (conn, runtime, actor):
        record = await get_record(conn, runtime, actor, entity, record_id, svc.clock.now())
        record = await with_rows(conn, runtime, actor, entity, record, svc.clock.now())
        if titles:
            record = {**record, "_titles": await reference_titles(
                conn, runtime, actor, entity, [record], svc.clock.now())}
    return LoomJSONResponse(record, headers={"ETag": etag(record["version"])})


@router.patch(PREFIX + "/{record_id}",
              name="change_record", summary="Change a record (If-Match: version)",
              openapi_extra={**OBJECT_BODY, "parameters": [IF_MATCH]},
              responses=refusals(428))
async def change(request: Request, app: str, entity: str, record_id: int) -> Any:
    data = await json_body(request)
    svc = services(request)
    async with app_command(request, app, write=True) as (conn, runtime, actor):
        budget = WriteBudget()
        record = await svc.pipeline.update(conn, runtime, actor, entity, record_id, data,
                                           expected_version=required_version(request, runtime),
                                           budget=budget)
        [record] = await as_seen(conn, runtime, actor, entity, [record], budget=budget)
        record = await with_rows(conn, runtime, actor, entity, record, svc.clock.now())
    return LoomJSONResponse(record, headers={"ETag": etag(record["version"])})


@router.delete(PREFIX + "/{record_id}",
               name="delete_record", summary="Delete a record (If-Match: version); "
               "answers what went with it and its recycle bin item",
               openapi_extra={"parameters": [IF_MATCH]}, responses=refusals(428))
async def remove(request: Request, app: str, entity: str, record_id: int) -> Any:
    svc = services(request)
    async with app_command(request, app, write=True) as (conn, runtime, actor):
        removal = await svc.pipeline.delete(conn, runtime, actor, entity, record_id,
                                            expected_version=required_version(request,
                                                                              runtime))
    return LoomJSONResponse(removal.as_json(runtime, request_locale(request)))


@router.get(PREFIX + "/{record_id}/delete-impact",
            name="delete_impact", summary="What deleting the record would delete, clear or run "
            "into; changes nothing")
async def impact(request: Request, app: str, entity: str, record_id: int) -> Any:
    svc = services(request)
    async with app_command(request, app, write=False) as (conn, runtime, actor):
        plan = await delete_impact(conn, runtime, actor, entity, record_id, svc.clock.now())
    return LoomJSONResponse(plan.as_json(runtime, request_locale(request)))


@router.get(PREFIX + "/{record_id}/history",
            name="record_history", summary="Who changed what, and when")
async def history(request: Request, app: str, entity: str, record_id: int) -> Any:
    svc = services(request)
    async with app_command(request, app, write=False) as (conn, runtime, actor):
        await get_record(conn, runtime, actor, entity, record_id, svc.clock.now())
        access = await authorize(conn, actor, runtime, entity, "read")
        items = await record_history(conn, runtime.app_id, entity, record_id)
    for item in items:
        item["changes"] = {name: values for name, values in item["changes"].items()
                           if name == SHARE_KEY or access.can_read(name)}
    return LoomJSONResponse({"items": items})


@router.get(PREFIX + "/{record_id}/timeline",
            summary="The record's activity timeline, newest first (keyset pages): "
            "follow-ups, field changes, flow steps, emails and notifications",
            description=TIMELINE_DOC, responses=refusals(404))
async def timeline(request: Request, app: str, entity: str, record_id: int,
                   limit: int = Query(default=DEFAULT_TIMELINE, description="Entries per "
                                      f"page, 1–{MAX_TIMELINE}"),
                   cursor: str | None = Query(default=None, description="`next_cursor` of "
                                              "the page before")) -> Any:
    svc = services(request)
    async with app_command(request, app, write=False) as (conn, runtime, actor):
        body = await record_timeline(conn, runtime, actor, entity, record_id, svc.clock.now(),
                                     locale=request_locale(request), limit=limit,
                                     cursor=cursor)
    return LoomJSONResponse(body)


class RecordShareIn(BaseModel):
    user: str = Field(description="The email of the user to share with")
    access: Literal["read", "write"] = "read"


@router.get(PREFIX + "/{record_id}/shares", summary="Who the record is shared with")
async def list_shares(request: Request, app: str, entity: str, record_id: int) -> Any:
    svc = services(request)
    async with app_command(request, app, write=False) as (conn, runtime, actor):
        items = await shares.shares_of(conn, runtime, actor, entity, record_id,
                                       svc.clock.now())
    return LoomJSONResponse({"items": items})


@router.post(PREFIX + "/{record_id}/shares", status_code=204,
             summary="Share the record with a user (read, or read and write)")
async def add_share(request: Request, app: str, entity: str, record_id: int,
                    body: RecordShareIn) -> Response:
    svc = services(request)
    async with app_command(request, app, write=True) as (conn, runtime, actor):
        await shares.share(conn, runtime, actor, entity, record_id, body.user, body.access,
                           svc.clock.now())
    return Response(status_code=204)


@router.delete(PREFIX + "/{record_id}/shares/{user_id}", status_code=204,
               summary="Stop sharing the record with a user")
async def remove_share(request: Request, app: str, entity: str, record_id: int,
                       user_id: RowId) -> Response:
    svc = services(request)
    async with app_command(request, app, write=True) as (conn, runtime, actor):
        await shares.unshare(conn, runtime, actor, entity, record_id, user_id,
                             svc.clock.now())
    return Response(status_code=204)
