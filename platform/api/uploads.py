"""Receiving uploads: a sheet to import (a multipart form's ``file`` part, or the raw body
sent as ``text/csv`` or the XLSX type), or a file for a record's file field (a multipart
form's ``file`` part). The upload is written to a temporary file as it arrives — bounded
by ``LOOM_MAX_BODY_BYTES``, never held in memory whole — and its kind checked (what it
claims and what it is) before anything reads it."""

from __future__ import annotations

import codecs
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import Request
from starlette.datastructures import UploadFile

from loom.metamodel.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from loom.metamodel.i18n import message, register_messages
from loom.platform.records.files import ReceivedFile, room_for_files
from loom.platform.transfer.sheets import Kind, check_kind
from loom.renderers.spreadsheets import CSV_TYPE, XLSX_TYPE

CSV_TYPES = frozenset({CSV_TYPE, "application/csv", "text/comma-separated-values"})
EXTENSIONS: dict[str, Kind] = {".csv": "csv", ".xlsx": "xlsx"}
CHUNK = 256 * 1024

register_messages({
    "upload_unsupported": {
        "en": "Send a CSV or XLSX file: as the multipart form field 'file', or as the body "
              "with Content-Type text/csv or {xlsx} (got {got})",
        "zh-CN": "请上传 CSV 或 XLSX 文件：作为 multipart 表单字段“file”，或作为请求体并设置 "
                 "Content-Type 为 text/csv 或 {xlsx}（收到的是 {got}）",
    },
    "upload_no_file": {"en": "The form has no file in the field 'file'",
                       "zh-CN": "表单的“file”字段中没有文件"},
    "upload_old_excel": {
        "en": "'{name}' is an old Excel (.xls) file; save it as .xlsx or .csv",
        "zh-CN": "“{name}”是旧版 Excel（.xls）文件，请另存为 .xlsx 或 .csv",
    },
    "upload_too_large": {"en": "The file is larger than {limit} bytes",
                         "zh-CN": "文件超过 {limit} 字节"},
    "upload_empty": {"en": "The file is empty", "zh-CN": "文件为空"},
    "upload_bad_charset": {"en": "Unknown charset '{charset}'", "zh-CN": "未知的字符集“{charset}”"},
    "upload_needs_form": {"en": "Send the file as the multipart form field 'file'",
                          "zh-CN": "请以 multipart 表单字段“file”上传文件"},
})


@dataclass(frozen=True)
class Upload:
    path: Path
    kind: Kind
    encoding: str | None  # a CSV's charset, when the sender named one


def _media_type(value: str | None) -> tuple[str, dict[str, str]]:
    kind, _, rest = (value or "").partition(";")
    params = {}
    for part in rest.split(";"):
        name, _, text = part.partition("=")
        if name.strip():
            params[name.strip().lower()] = text.strip().strip('"')
    return kind.strip().lower(), params


def _kind_of(media: str, filename: str | None = None) -> Kind | None:
    suffix = Path(filename or "").suffix.lower()
    if suffix == ".xls":
        raise UnsupportedMediaType(message("upload_old_excel", name=filename))
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    if media in CSV_TYPES:
        return "csv"
    if media == XLSX_TYPE:
        return "xlsx"
    return None


def _charset(params: dict[str, str]) -> str | None:
    charset = params.get("charset")
    if not charset:
        return None
    try:
        return codecs.lookup(charset).name
    except LookupError:
        raise BadRequest(message("upload_bad_charset", charset=charset)) from None


@asynccontextmanager
async def received_sheet(request: Request, limit: int) -> AsyncIterator[Upload]:
    """The uploaded sheet in a temporary file (deleted afterwards), of a checked kind."""
    media, params = _media_type(request.headers.get("content-type"))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(message("upload_too_large", limit=limit))
    descriptor, name = tempfile.mkstemp(prefix="loom-import-")
    path = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as target:
            if media == "multipart/form-data":
                kind, encoding, size = await _from_form(request, target, limit)
            else:
                kind, encoding = _kind_of(media), _charset(params)
                if kind is None:
                    raise UnsupportedMediaType(message("upload_unsupported", xlsx=XLSX_TYPE,
                                                       got=media or "nothing"))
                size = await _copy(request.stream(), target, limit)
        if size == 0:
            raise BadRequest(message("upload_empty"))
        check_kind(path, kind)
        yield Upload(path, kind, encoding)
    finally:
        with suppress(OSError):
            os.unlink(name)


async def _copy(chunks: AsyncIterator[bytes], target: BinaryIO, limit: int) -> int:
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(message("upload_too_large", limit=limit))
        target.write(chunk)
    return size


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


async def _from_form(request: Request, target: BinaryIO,
                     limit: int) -> tuple[Kind, str | None, int]:
    async with request.form(max_files=1, max_fields=20) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise BadRequest(message("upload_no_file"))
        part_type, params = _media_type(upload.content_type)
        kind = _kind_of(part_type, upload.filename)
        if kind is None:
            raise UnsupportedMediaType(message("upload_unsupported", xlsx=XLSX_TYPE,
                                               got=f"{upload.filename or '?'} ({part_type})"))
        return kind, _charset(params), await _copy(_chunks(upload), target, limit)


@asynccontextmanager
async def received_file(request: Request, limit: int,
                        directory: Path) -> AsyncIterator[ReceivedFile]:
    """The form's ``file`` part in a temporary file of ``directory`` (the store's disk, so
    keeping it is a rename); deleted afterwards unless it was moved away."""
    media, _params = _media_type(request.headers.get("content-type"))
    if media != "multipart/form-data":
        raise UnsupportedMediaType(message("upload_needs_form"))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(message("upload_too_large", limit=limit))
    with room_for_files():
        os.makedirs(directory, exist_ok=True)
        descriptor, name = tempfile.mkstemp(prefix="upload-", dir=directory)
    try:
        digest = hashlib.sha256()
        with room_for_files(), os.fdopen(descriptor, "wb") as target:
            async with request.form(max_files=1, max_fields=5) as form:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    raise BadRequest(message("upload_no_file"))
                size = await _copy(_hashed(_chunks(upload), digest), target, limit)
                filename = upload.filename or ""
        if size == 0:
            raise BadRequest(message("upload_empty"))
        yield ReceivedFile(Path(name), filename, size, digest.hexdigest())
    finally:
        with suppress(OSError):
            os.unlink(name)



async def _hashed(chunks: AsyncIterator[bytes], digest: Any) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        digest.update(chunk)
        yield chunk
