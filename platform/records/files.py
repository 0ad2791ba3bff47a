"""Files of records' file and image fields: a ticket's photos, a contract's scan.

A file is uploaded for one field of one entity, by someone who may write that field
(create or update); what it is comes from its bytes (``file_kinds``), and an image field
takes images only. The bytes are kept under ``data_dir/files/<workspace>/`` by an
unguessable key; the answer is the descriptor a record's field holds
(``{key, name, size, type, url}``). Downloading needs read access to that entity and
field in the app — the same permission check as every read. Every instance of Loom
serving one database must share ``data_dir`` (or mount the same volume there).
"""

from __future__ import annotations

import errno
import os
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import (
    InsufficientStorage,
    NotFound,
    PermissionDenied,
    UnsupportedMediaType,
)
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.records.file_kinds import ACCEPTED, ACCEPTED_IMAGES, sniff
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import authorize
from loom.platform.storage.system_tables import stored_files

HEAD = 4096

register_messages({
    "file_not_a_file_field": {"en": "'{field}' is not a file or image field of {entity}",
                              "zh-CN": "“{field}”不是{entity}的文件或图片字段"},
    "file_field_not_writable": {"en": "You may not change '{field}' of {entity}",
                                "zh-CN": "你无权修改{entity}的“{field}”"},
    "file_kind_refused": {"en": "'{name}' is not a file this field takes ({accepted})",
                          "zh-CN": "“{name}”不是此字段接受的文件类型（{accepted}）"},
    "file_not_found": {"en": "There is no file {file}", "zh-CN": "文件 {file} 不存在"},
    "file_no_room": {
        "en": "The server has no room left to keep files; nothing was kept. Tell the "
              "administrator (the disk of LOOM_DATA_DIR is full)",
        "zh-CN": "服务器已没有空间保存文件，本次未保存任何内容。"
                 "请告知管理员（LOOM_DATA_DIR 所在磁盘已满）"},
})


@contextmanager
def room_for_files() -> Iterator[None]:
    """A full disk (or quota) where files are kept is the server's problem, and said so:
    507, never a 500. The caller removes what it had begun to write."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise InsufficientStorage(message("file_no_room")) from None
        raise


@dataclass(frozen=True)
class ReceivedFile:
    """An upload in a temporary file, with what was learnt while it arrived."""

    path: Path
    filename: str
    size: int
    sha256: str


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def incoming(self) -> Path:
        """Where uploads arrive (on the store's disk: keeping one is a rename)."""
        return self.root / "incoming"

    async def keep(self, conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                   entity: str, field: str, received: ReceivedFile,
                   now: datetime) -> dict[str, Any]:
        """Check and keep an upload for ``entity.field``; the field's descriptor."""
        spec = runtime.entity(entity)
        target = spec.fields.get(field)
        if target is None or target.type not in (FieldType.FILE, FieldType.IMAGE):
            raise NotFound(message("file_not_a_file_field", field=field,
                                   entity=spec.label))
        await _require_writable(conn, runtime, actor, entity, field, spec.label)
        name = _clean_name(received.filename)
        with received.path.open("rb") as handle:
            kind = sniff(handle.read(HEAD), name)
        if kind is None or (target.type is FieldType.IMAGE and not kind.image):
            accepted = ACCEPTED_IMAGES if target.type is FieldType.IMAGE else ACCEPTED
            raise UnsupportedMediaType(message("file_kind_refused", name=name,
                                               accepted=accepted))
        key = secrets.token_urlsafe(24)
        await conn.execute(insert(stored_files).values(
            workspace_id=runtime.workspace_id, app_id=runtime.app_id, key=key, entity=entity,
            field=field, name=name, content_type=kind.content_type, size=received.size,
            sha256=received.sha256, uploaded_by=actor.user_id, uploaded_at=now))
        destination = self._path(runtime.workspace_id, key)
        with room_for_files():
            os.makedirs(destination.parent, exist_ok=True)
            os.replace(received.path, destination)  # last: a failure leaves no row behind
        return {"key": key, "name": name, "size": received.size, "type": kind.content_type,
                "url": f"/api/apps/{runtime.slug}/files/{key}"}

    async def find(self, conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                   key: str) -> tuple[dict[str, Any], Path]:
        """A kept file the reader may see, and where its bytes are; 404 otherwise (a key
        of another app, or of a field hidden from the reader, is not theirs to know)."""
        row = (await conn.execute(select(stored_files).where(
            stored_files.c.key == key[:64], stored_files.c.app_id == runtime.app_id,
            stored_files.c.workspace_id == runtime.workspace_id))).mappings().first()
        if row is None or row["entity"] not in runtime.doc.entities:
            raise NotFound(message("file_not_found", file=key[:64]))
        try:
            access = await authorize(conn, actor, runtime, row["entity"], "read")
        except PermissionDenied:
            raise NotFound(message("file_not_found", file=key[:64])) from None
        if not access.can_read(row["field"]):
            raise NotFound(message("file_not_found", file=key[:64]))
        return dict(row), self._path(runtime.workspace_id, row["key"])

    def _path(self, workspace_id: int, key: str) -> Path:
        return self.root / str(workspace_id) / key


async def _require_writable(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                            entity: str, field: str, label: Any) -> None:
    """Whoever may set the field — creating a record or changing one — may upload for it."""
    for operation in ("update", "create"):
        try:
            access = await authorize(conn, actor, runtime, entity, operation)
        except PermissionDenied:
            continue
        if access.can_write(field):
            return
    raise PermissionDenied(message("file_field_not_writable", field=field, entity=label))


def _clean_name(filename: str) -> str:
    """The file's own name without folders or control characters, at most 255 long."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[:255] or "file"
