"""Records in and out as sheets: export a list (its filter and sort) as CSV or XLSX, and
import a CSV or XLSX file through the write pipeline with a per-row report."""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import suppress
from pathlib import Path
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.i18n import message, register_messages
from loom.platform.api.context import command, lag_tolerant, services
from loom.platform.api.openapi_schemas import schema_ref
from loom.platform.api.problems import problem, refusals, request_locale
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.api.routes.operations import ACCEPTED, accepted, launch, queue
from loom.platform.api.routes.records import parse_filter
from loom.platform.api.uploads import Upload, received_sheet
from loom.platform.operations import Progress, Step
from loom.platform.records.views import view_filter
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import authorize
from loom.platform.services import Services
from loom.platform.transfer.exports import ExportOptions, RecordExport, prepare_export
from loom.platform.transfer.import_plan import ImportOptions
from loom.platform.transfer.imports import ImportRefused, RecordImport
from loom.platform.transfer.sheets import Sheet
from loom.renderers.openapi import SHEET_BODY_NOTE
from loom.renderers.spreadsheets import CSV_TYPE, XLSX_TYPE, CsvWriter, XlsxWriter

register_messages({
    "import_refused": {"en": "{count} row(s) were refused, so nothing was imported",
                       "zh-CN": "有 {count} 行被拒绝，未导入任何记录"},
    "import_step": {"en": "Importing {entity} records", "zh-CN": "正在导入{entity}记录"},
})

router = APIRouter(tags=["records"])
IMPORT_KIND = "record_import"
INLINE_ROWS = 500  # a file with more data rows is imported as an operation
PREFIX = "/api/apps/{app}/records/{entity}"
FILE_CHUNK = 256 * 1024
# The multipart form is what is documented (client generators know it); the raw body with
# the sheet's own media type is read too (SHEET_BODY_NOTE)
IMPORT_BODY = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": schema_ref("SheetUpload")}}}}


class RowError(BaseModel):
    row: int = Field(description="The row as a spreadsheet numbers it (the header is 1)")
    field: str | None = None
    column: str | None = Field(default=None, description="The header of the field's column")
    message: str
    code: str | None = None


class ImportResult(BaseModel):
    entity: str
    mode: Literal["create", "upsert"]
    key: str | None
    dry_run: bool
    all_or_nothing: bool
    rows: int = Field(description="Data rows read (blank rows are skipped)")
    created: int
    updated: int
    refused: int = Field(description="Rows refused, each listed in errors")
    rolled_back: bool = Field(description="all_or_nothing: nothing was kept")
    errors: list[RowError]


@router.get(PREFIX + "/export", name="export_records",
            summary="Export the records of a list as CSV or XLSX",
            responses={200: {"description": "The records, streamed", "content": {
                CSV_TYPE: {"schema": {"type": "string"}},
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}}})
async def export(request: Request, app: str, entity: str,
                 format: Literal["csv", "xlsx"] = "csv",
                 filter: str | None = Query(default=None, description="JSON Logic condition"),
                 sort: str | None = Query(default=None, description="e.g. -amount,name"),
                 fields: str | None = Query(default=None, description="e.g. name,amount"),
                 header: Literal["labels", "names"] = Query(
                     default="labels", description="Field labels (Accept-Language) or API "
                     "names"),
                 values: Literal["labels", "raw"] = Query(
                     default="labels", description="Option labels or stored values"),
                 q: str | None = Query(default=None, description="Quick search, as in the "
                                       "list"),
                 view: str | None = Query(default=None, description="A view of this entity: "
                                          "export what it lists (narrowed by filter)")) -> Any:
    svc = services(request)

    async def prepared_export(conn: AsyncConnection, actor: Actor) -> RecordExport:
        runtime, actor = await svc.apps.enter(conn, actor, app)
        options = ExportOptions(
            filter=parse_filter(filter), sort=sort, header=header, values=values,
            fields=[f.strip() for f in fields.split(",") if f.strip()] if fields else None,
            locale=request_locale(request), text=format == "csv", search=q,
            preset=view_filter(runtime, actor, view, entity) if view is not None else None)
        return await prepare_export(conn, runtime, actor, entity, options, svc.clock.now())

    # an export may lag a moment behind: on the read replica when there is one (its pages
    # too, RecordExport.pages)
    prepared = await lag_tolerant(request, prepared_export)
    filename = f"{prepared.runtime.slug}-{entity}.{format}"
    body = _csv(prepared, svc) if format == "csv" else _xlsx(prepared, svc)
    return StreamingResponse(body, media_type=f"{CSV_TYPE}; charset=utf-8"
                             if format == "csv" else XLSX_TYPE, headers={
                                 "Content-Disposition": f'attachment; filename="{filename}"'})


async def _csv(prepared: RecordExport, svc: Services) -> AsyncIterator[bytes]:
    writer = CsvWriter()
    yield writer.chunk([prepared.headers()])
    async for rows in prepared.pages(svc.database, svc.clock.now()):
        yield writer.chunk(rows)


async def _xlsx(prepared: RecordExport, svc: Services) -> AsyncIterator[bytes]:
    label = prepared.runtime.entity(prepared.entity).display_label(prepared.options.locale)
    writer = XlsxWriter(label)
    writer.append([prepared.headers()])
    async for rows in prepared.pages(svc.database, svc.clock.now()):
        writer.append(rows)
    path = await anyio.to_thread.run_sync(writer.finish)
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(FILE_CHUNK):
                yield chunk
    finally:
        with suppress(OSError):
            os.unlink(path)


@router.post(PREFIX + "/import", name="import_records",
             summary="Import records from a CSV or XLSX file: the report at once (200) for up "
             f"to {INLINE_ROWS} rows; a larger file is imported in the background (202: "
             "follow the operation, whose result is the report)",
             description=SHEET_BODY_NOTE, response_model=ImportResult,
             openapi_extra=IMPORT_BODY, responses={**ACCEPTED, **refusals(404, 422, body=True)})
async def import_(request: Request, app: str, entity: str,
                  mode: Literal["create", "upsert"] = "create",
                  key: str | None = Query(default=None, max_length=40,
                                          description="upsert: id or a unique field"),
                  dry_run: bool = Query(default=False, description="Check, keep nothing"),
                  all_or_nothing: bool = Query(
                      default=False, description="Import nothing when any row is refused"),
                  ) -> Any:
    svc = services(request)
    options = ImportOptions(mode=mode, key=key, dry_run=dry_run,
                            all_or_nothing=all_or_nothing)
    options.match_key()
    async with command(request, write=False, scope="write") as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        await authorize(conn, actor, runtime, entity, "import")
    records = RecordImport(svc, runtime, actor, entity, options)
    locale = request_locale(request)
    async with received_sheet(request, svc.settings.max_body_bytes) as upload:
        if await anyio.to_thread.run_sync(_longer_than, upload, INLINE_ROWS):
            return await _in_the_background(request, records, upload, locale)
        sheet = Sheet(upload.path, upload.kind, upload.encoding)
        try:
            report = await records.run(sheet)
        finally:
            sheet.close()
    body = report.render(locale)
    if report.rolled_back:
        return problem(request, 422, "import-refused", "Import refused",
                       message("import_refused", count=report.refused).render(locale),
                       body.pop("errors"),
                       extra=body)
    return LoomJSONResponse(body)


def _longer_than(upload: Upload, rows: int) -> bool:
    """Whether the sheet has more than ``rows`` data rows (read no further than that)."""
    return _rows_in(upload.path, upload, most=rows + 1) > rows


def _rows_in(path: Path, upload: Upload, most: int | None = None) -> int:
    """The sheet's data rows, counted up to ``most``."""
    sheet = Sheet(path, upload.kind, upload.encoding)
    try:
        return sum(1 for _ in itertools.islice(sheet.rows(), most))
    finally:
        sheet.close()


async def _in_the_background(request: Request, records: RecordImport, upload: Upload,
                             locale: str) -> Any:
    """Keep the file past the request and import it as an operation: its result is the
    report; an all-or-nothing import that refused rows fails, its report as the result."""
    svc, actor = services(request), records.actor
    folder = svc.settings.data_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"{uuid.uuid4().hex}.{upload.kind}"
    await anyio.to_thread.run_sync(shutil.move, upload.path, kept)
    options = records.options
    try:
        async with svc.database.write() as conn:
            operation_id = await queue(request, conn, actor, IMPORT_KIND,
                                       app_id=records.runtime.app_id, params={
                                           "entity": records.entity, "mode": options.mode,
                                           "key": options.key, "dry_run": options.dry_run,
                                           "all_or_nothing": options.all_or_nothing})
    except BaseException:
        kept.unlink(missing_ok=True)
        raise

    async def work(progress: Progress) -> dict[str, Any]:
        try:
            total = await anyio.to_thread.run_sync(_rows_in, kept, upload)
            label = records.runtime.entity(records.entity).label
            progress.note(0, total, Step("rows", message("import_step", entity=label)))
            sheet = Sheet(kept, upload.kind, upload.encoding)
            try:
                report = await records.run(sheet, progress)
            finally:
                sheet.close()
        finally:
            kept.unlink(missing_ok=True)
        body = report.render(locale)
        if report.rolled_back:
            progress.saved = body  # what it came to: nothing kept, and why
            raise ImportRefused(message("import_refused", count=report.refused))
        return body

    return accepted(await launch(request, actor, operation_id, work))
