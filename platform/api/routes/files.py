"""Files of records' file and image fields: upload one for a field, download one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse

from loom.metamodel.fields import API_NAME_PATTERN
from loom.platform.api.context import command, services
from loom.platform.api.problems import refusals
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.api.uploads import received_file
from loom.platform.records.files import FileStore

router = APIRouter(tags=["files"])
Name = Annotated[str, Path(pattern=API_NAME_PATTERN, max_length=40)]
FORM = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"}}}}}}}


def store(request: Request) -> FileStore:
    return FileStore(services(request).settings.data_dir / "files")


@router.post("/api/apps/{app}/files/{entity}/{field}", status_code=201,
             summary="Upload a file for a file or image field; answers the value to put in it",
             openapi_extra=FORM, responses=refusals(404, 413, 415, 507, body=True))
async def upload(request: Request, app: str, entity: Name, field: Name) -> Any:
    svc, files = services(request), store(request)
    # signed in first: nobody else gets to send us a body
    async with command(request, write=True) as (conn, actor), \
            received_file(request, svc.settings.max_body_bytes, files.incoming()) as received:
        runtime, actor = await svc.apps.enter(conn, actor, app)
        descriptor = await files.keep(conn, runtime, actor, entity, field, received,
                                      svc.clock.now())
    return LoomJSONResponse(descriptor, status_code=201)


@router.get("/api/apps/{app}/files/{key}", summary="Download a file of a record's field",
            responses={200: {"content": {"application/octet-stream": {}}},
                       **refusals(404)})
async def download(request: Request, app: str,
                   key: Annotated[str, Path(max_length=64)]) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        row, path = await store(request).find(conn, runtime, actor, key)
    return FileResponse(path, media_type=row["content_type"], filename=row["name"],
                        headers={"Cache-Control": "private, max-age=3600"})
