"""An app's metadata lifecycle: the published document, the draft (PUT / JSON Merge Patch /
discard), publish with its impact preview, versions, readable diffs, rollback, export and
import as a zip, the template layers and their upgrade, and the audit trail."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from loom.metamodel.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from loom.metamodel.i18n import message, register_messages
from loom.platform.api.context import command, etag, if_match, json_body, services
from loom.platform.api.guards import StoredText
from loom.platform.api.openapi_schemas import schema_ref
from loom.platform.api.problems import refusals, request_locale
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.apps import history, template_upgrades
from loom.platform.apps.audit import audit_entries
from loom.platform.apps.folder import read_zip, write_zip
from loom.platform.apps.service import PatchKind

router = APIRouter(tags=["metadata"])
# Version numbers are a 32-bit column: a larger one would fail in the database, not miss.
MAX_VERSION = 2**31 - 1
VersionNumber = Annotated[int, Path(ge=1, le=MAX_VERSION, description="A published version")]
VERSION_OR_DRAFT = r"^(draft|[1-9][0-9]{0,9})$"
register_messages({
    "draft_patch_type": {
        "en": "Send a JSON Patch as {json}, a JSON Merge Patch as {merge} (or application/json)",
        "zh-CN": "JSON Patch 请以 {json} 发送，JSON Merge Patch 请以 {merge}"
                 "（或 application/json）发送"},
})
ZIP_TYPES = ("application/zip", "application/x-zip-compressed", "application/octet-stream")
ZIP_ANSWERS = ("application/zip", "application/octet-stream")


class PublishIn(BaseModel):
    message: StoredText | None = None
    base_version: int | None = Field(
        default=None, ge=1, le=MAX_VERSION, description="The version your draft started "
        "from; refused (409, with what changed) if another version was published since")
    dry_run: bool = Field(default=False, description="Check, plan and count the impact "
                          "(tables, rows, rules that would fire, running flows); change "
                          "nothing")


class RollbackIn(BaseModel):
    version: int = Field(ge=1, le=MAX_VERSION, description="The version to publish again")
    discard_draft: bool = Field(default=False,
                                description="Throw away an unpublished draft to do it")


class UpgradeIn(BaseModel):
    dry_run: bool = Field(default=False, description="Show the merge; change nothing")
    resolutions: dict[str, Literal["app", "template"]] = Field(
        default_factory=dict, description="Per conflicting path, whose value to keep")


def _version_or_draft(value: str | None) -> int | str | None:
    if value is None or value == "draft":
        return value
    number = int(value)
    if number > MAX_VERSION:
        raise BadRequest(f"There is no version {value}")
    return number


@router.get("/api/apps/{app}/metadata",
            summary="The published document set (builders; readers get …/schema)",
            responses=refusals(404))
async def get_metadata(request: Request, app: str) -> Any:
    async with command(request, write=False) as (conn, actor):
        await services(request).apps.require_builder(conn, actor, app)
        runtime = await services(request).apps.runtime(conn, actor, app)
    return LoomJSONResponse(runtime.doc.to_json(), headers={
        "ETag": etag(runtime.version), "X-Loom-Version": str(runtime.version)})


# --- the draft ----------------------------------------------------------------------------

@router.get("/api/apps/{app}/metadata/draft", summary="The draft (or published) document set",
            responses=refusals(404))
async def get_draft(request: Request, app: str) -> Any:
    async with command(request, write=False) as (conn, actor):
        document, revision = await services(request).apps.draft(conn, actor, app)
    return LoomJSONResponse(document, headers={"ETag": etag(revision)})


MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
Include = Annotated[Literal["document"] | None, Query(
    description="'document': the saved document comes back too")]
DRAFT_SAVED = {200: {"description": "The new revision (also the ETag), every problem a "
                     "publish would refuse, and what the save changed", "content": {
                         "application/json": {"schema": schema_ref("DraftSaved")}}}}
DOCUMENT_BODY = {"schema": schema_ref("MetadataDocument")}


def _patch_kind(request: Request) -> PatchKind:
    """JSON Patch by its media type; a merge patch otherwise (its own type, or plain JSON)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == JSON_PATCH:
        return "json"
    if kind in ("", MERGE_PATCH, "application/json"):
        return "merge"
    raise UnsupportedMediaType(message("draft_patch_type", json=JSON_PATCH, merge=MERGE_PATCH))


async def _save_draft(request: Request, app: str, patch: PatchKind | None,
                      include: str | None) -> Any:
    body = await json_body(request)
    locale = request_locale(request)
    async with command(request, write=True) as (conn, actor):
        saved = await services(request).apps.save_draft(
            conn, actor, app, body, patch=patch, if_revision=if_match(request))
    answer: dict[str, Any] = {
        "revision": saved.revision, "problems": [p.render(locale) for p in saved.problems()],
        "changes": [change.render(locale) for change in saved.changes]}
    if include == "document":
        answer["document"] = saved.document
    return LoomJSONResponse(answer, headers={"ETag": etag(saved.revision)})


@router.put("/api/apps/{app}/metadata/draft",
            summary="Replace the draft; answers the revision and every problem",
            responses={**DRAFT_SAVED, **refusals(404, 409, body=True)},
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/json": DOCUMENT_BODY}}})
async def put_draft(request: Request, app: str, include: Include = None) -> Any:
    return await _save_draft(request, app, None, include)


@router.patch("/api/apps/{app}/metadata/draft",
              summary="Change the draft (JSON Merge Patch, or JSON Patch by its media type); "
              "answers the revision and every problem",
              responses={**DRAFT_SAVED, **refusals(404, 409, 415, body=True)},
              openapi_extra={"requestBody": {"required": True, "content": {
                  MERGE_PATCH: DOCUMENT_BODY, "application/json": DOCUMENT_BODY,
                  JSON_PATCH: {"schema": {"type": "array", "items": schema_ref(
                      "JsonPatchOperation")}}}}})
async def patch_draft(request: Request, app: str, include: Include = None) -> Any:
    return await _save_draft(request, app, _patch_kind(request), include)


@router.delete("/api/apps/{app}/metadata/draft", summary="Discard the draft",
               responses=refusals(404, 409))
async def discard_draft(request: Request, app: str) -> Any:
    async with command(request, write=True) as (conn, actor):
        revision = await services(request).apps.discard_draft(
            conn, actor, app, if_revision=if_match(request))
    return LoomJSONResponse({"revision": revision}, headers={"ETag": etag(revision)})


# --- publish, versions, diff, rollback ------------------------------------------------------

@router.post("/api/apps/{app}/metadata/publish",
             summary="Publish the draft as a new version (or 422 listing every problem)",
             responses=refusals(404, 409, body=True))
async def publish(request: Request, app: str, body: PublishIn | None = None) -> Any:
    body = body or PublishIn()
    locale = request_locale(request)
    async with command(request, write=True) as (conn, actor):
        result = await services(request).apps.publish(
            conn, actor, app, note=body.message, base_version=body.base_version,
            dry_run=body.dry_run, locale=locale)
    return LoomJSONResponse({**result.as_json(locale), "dry_run": body.dry_run})


@router.get("/api/apps/{app}/metadata/versions", summary="Published versions, newest first",
            responses=refusals(404))
async def versions(request: Request, app: str) -> Any:
    async with command(request, write=False) as (conn, actor):
        return LoomJSONResponse({"items": await history.versions(services(request).apps, conn,
                                                                 actor, app)})


@router.get("/api/apps/{app}/metadata/versions/{version}", summary="One published version",
            responses=refusals(404))
async def version(request: Request, app: str, version: VersionNumber) -> Any:
    async with command(request, write=False) as (conn, actor):
        document, _ = await services(request).apps.document_at(conn, actor, app, version)
    return LoomJSONResponse(document, headers={"ETag": etag(version)})


@router.get("/api/apps/{app}/metadata/diff",
            summary="What changed between two versions (or a version and the draft)",
            responses=refusals(404))
async def diff(request: Request, app: str,
               old: Annotated[str | None, Query(
                   alias="from", pattern=VERSION_OR_DRAFT,
                   description="A version or 'draft'; default: the published one")] = None,
               new: Annotated[str | None, Query(
                   alias="to", pattern=VERSION_OR_DRAFT,
                   description="A version or 'draft'; default: the draft if there is "
                   "one, else the published version")] = None) -> Any:
    locale = request_locale(request)
    async with command(request, write=False) as (conn, actor):
        result = await history.diff(services(request).apps, conn, actor, app,
                                    _version_or_draft(old), _version_or_draft(new))
    return LoomJSONResponse({**result, "changes": [c.render(locale)
                                                   for c in result["changes"]]})


@router.post("/api/apps/{app}/metadata/rollback",
             summary="Publish an earlier version again, as a new version",
             responses=refusals(404, 409, body=True))
async def rollback(request: Request, app: str, body: RollbackIn) -> Any:
    locale = request_locale(request)
    async with command(request, write=True) as (conn, actor):
        result = await history.rollback(services(request).apps, conn, actor, app,
                                        body.version, discard_draft=body.discard_draft,
                                        locale=locale)
    return LoomJSONResponse({**result.as_json(locale), "rolled_back_to": body.version})


# --- export / import ------------------------------------------------------------------------

@router.get("/api/apps/{app}/metadata/export",
            name="export_metadata", summary="The metadata as a zip: one JSON file per item",
            response_class=Response,
            responses={200: {"content": {
                # application/octet-stream for clients that ask for it (generators read
                # bytes by that name)
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in ZIP_ANSWERS}}, **refusals(404)})
async def export(request: Request, app: str,
                 which: Annotated[str | None, Query(
                     alias="version", pattern=VERSION_OR_DRAFT,
                     description="A version or 'draft'; default: the published one")] = None,
                 ) -> Response:
    async with command(request, write=False) as (conn, actor):
        document, label = await services(request).apps.document_at(
            conn, actor, app, _version_or_draft(which))
    name = f"{app}-{'draft' if label == 'draft' else f'v{label}'}.zip"
    accept = request.headers.get("accept", "")
    media = ZIP_ANSWERS[1] if ZIP_ANSWERS[1] in accept and ZIP_ANSWERS[0] not in accept \
        else ZIP_ANSWERS[0]
    return Response(write_zip(document), media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/api/apps/{app}/metadata/import",
             summary="Import a zip: into an existing app as its draft, answering the diff "
             "to review before publishing; with create=true, as a new app",
             responses={201: {"description": "A new app (create=true), published as "
                              "version 1", "content": {"application/json": {}}},
                        **refusals(404, 409, body=True)},
             description="The zip archive is the request body, sent as application/zip (or "
             "application/x-zip-compressed, or application/octet-stream as documented "
             "here, the name client generators know for bytes)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string",
                                                         "format": "binary"}}}}})
async def import_archive(request: Request, app: str,
                         create: Annotated[bool, Query(
                             description="Create the app (published as version 1) when "
                             "it does not exist")] = False) -> Any:
    svc = services(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ZIP_TYPES:
        raise BadRequest("Send the archive as the request body with Content-Type: "
                         "application/zip")
    data = await request.body()
    limit = svc.settings.max_body_bytes
    if len(data) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes")
    document = read_zip(data, max_bytes=4 * limit)
    locale = request_locale(request)
    async with command(request, write=True) as (conn, actor):
        if create and not await svc.apps.exists(conn, actor, app):
            result = await svc.apps.create(conn, actor, app, document, action="imported")
            return LoomJSONResponse({"created": True, **result.as_json(locale)},
                                    status_code=201,
                                    headers={"Location": f"/api/apps/{app}"})
        revision = (await svc.apps.stage_import(conn, actor, app, document)).revision
        changes = await history.diff(svc.apps, conn, actor, app, None, "draft")
    return LoomJSONResponse({"created": False, "draft_revision": revision,
                             "changes": [c.render(locale) for c in changes["changes"]]})


# --- template layers ------------------------------------------------------------------------

@router.get("/api/apps/{app}/metadata/overlay",
            summary="The template this app was made from and the app's own changes on top",
            responses=refusals(404))
async def overlay(request: Request, app: str) -> Any:
    async with command(request, write=False) as (conn, actor):
        return LoomJSONResponse(await template_upgrades.overlay(
            services(request).apps, conn, actor, app, request_locale(request)))


@router.post("/api/apps/{app}/metadata/upgrade",
             summary="Merge the template's newest version into the app's draft; conflicts "
             "with the app's own changes are listed (409) until resolved",
             responses=refusals(404, 409, body=True))
async def upgrade(request: Request, app: str, body: UpgradeIn | None = None) -> Any:
    body = body or UpgradeIn()
    async with command(request, write=True) as (conn, actor):
        return LoomJSONResponse(await template_upgrades.upgrade(
            services(request).apps, conn, actor, app, resolutions=body.resolutions,
            dry_run=body.dry_run, locale=request_locale(request)))


# --- audit ----------------------------------------------------------------------------------

@router.get("/api/apps/{app}/metadata/audit",
            summary="Who changed the metadata, when and what, newest first",
            responses=refusals(404))
async def audit(request: Request, app: str,
                limit: Annotated[int, Query(ge=1, le=200)] = 50,
                before: Annotated[int | None, Query(ge=1, le=2**62,
                                                    description="An entry id")] = None) -> Any:
    async with command(request, write=False) as (conn, actor):
        if not actor.is_admin:  # the trail outlives the app: builders see it while it lives
            await services(request).apps.require_builder(conn, actor, app)
        return LoomJSONResponse(await audit_entries(
            conn, actor, app, locale=request_locale(request), limit=limit, before=before))
