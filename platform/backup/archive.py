"""The backup archive: a tar file whose ``manifest.json`` says what made it (Loom's
version, the moment, the database kind, the schema revision, the workspace) and what is in
it (rows per table, a SHA-256 and size per member). Reading checks every member against the
manifest before anything is restored, so a damaged archive is refused whole."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from loom.metamodel.errors import BadRequest
from loom.metamodel.i18n import message, register_messages

FORMAT = 1
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024

register_messages({
    "backup_damaged": {
        "en": "The backup {file} is damaged or not a Loom backup: {reason}",
        "zh-CN": "备份 {file} 已损坏或不是 Loom 备份：{reason}"},
    "backup_format_newer": {
        "en": "The backup {file} has format {found}; this Loom reads format {known}. "
              "Restore it with the Loom version that made it ({made_by}) or newer",
        "zh-CN": "备份 {file} 的格式为 {found}，此版本的 Loom 只能读取格式 {known}。"
                 "请用生成它的 Loom 版本（{made_by}）或更新的版本恢复"},
})


def loom_version() -> str:
    try:
        return version("loom-platform")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


@dataclass
class Manifest:
    """What an archive holds and what made it."""

    created_at: str
    database: str  # "sqlite" or "postgresql"
    revision: str | None  # the platform tables' Alembic revision
    workspace: str | None  # None: the whole database
    counts: dict[str, int] = field(default_factory=dict)  # rows per table
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # name: sha256, size
    schemas: list[str] = field(default_factory=list)  # PostgreSQL: the workspaces' schemas
    missing_files: list[str] = field(default_factory=list)  # rows whose bytes were gone
    loom_version: str = field(default_factory=loom_version)
    format: int = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_archive(target: Path, manifest: Manifest, members: dict[str, Path]) -> None:
    """Write the archive: the manifest first, then each member (``name: path on disk``).
    It is written beside ``target`` and renamed at the end, so a failed backup never leaves
    a half archive under the name of a good one."""
    for name, path in members.items():
        manifest.members[name] = {"sha256": sha256_of(path), "size": path.stat().st_size}
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)  # people's data and password hashes: for its owner only
    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        body = manifest.to_json().encode("utf-8")
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(body)
        info.mode = 0o600
        tar.addfile(info, io.BytesIO(body))
        for name, path in members.items():
            tar.add(path, arcname=name, recursive=False)
    partial.replace(target)


def read_archive(source: Path, into: Path) -> Manifest:
    """Unpack ``source`` into the folder ``into`` and return its manifest, once every member
    is there with the size and checksum the manifest gives; otherwise refuse it."""
    try:
        with tarfile.open(source, "r:*") as tar:
            manifest = _manifest(source, tar)
            for name, expected in manifest.members.items():
                _extract(source, tar, name, expected, into)
    except tarfile.TarError as exc:
        raise _damaged(source, str(exc) or type(exc).__name__) from None
    except (EOFError, OSError, ValueError) as exc:  # a cut gzip stream, a bad header
        if isinstance(exc, FileNotFoundError) and not source.exists():
            raise
        raise _damaged(source, str(exc) or type(exc).__name__) from None
    return manifest


def _manifest(source: Path, tar: tarfile.TarFile) -> Manifest:
    try:
        handle = tar.extractfile(MANIFEST)
    except KeyError:
        raise _damaged(source, f"it has no {MANIFEST}") from None
    if handle is None:
        raise _damaged(source, f"{MANIFEST} is not a file")
    try:
        data = json.loads(handle.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _damaged(source, f"{MANIFEST} is not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("format"), int):
        raise _damaged(source, f"{MANIFEST} has no format")
    if data["format"] > FORMAT:
        raise BadRequest(message("backup_format_newer", file=source.name, found=data["format"],
                                 known=FORMAT, made_by=data.get("loom_version", "?")))
    try:
        return Manifest(**data)
    except TypeError as exc:
        raise _damaged(source, f"{MANIFEST} is incomplete ({exc})") from None


def _extract(source: Path, tar: tarfile.TarFile, name: str, expected: dict[str, Any],
             into: Path) -> None:
    if name.startswith("/") or ".." in Path(name).parts:
        raise _damaged(source, f"the member name {name!r} points outside the archive")
    try:
        member = tar.getmember(name)
    except KeyError:
        raise _damaged(source, f"{name} is missing") from None
    handle = tar.extractfile(member)
    if handle is None:
        raise _damaged(source, f"{name} is not a file")
    target = into / name
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with target.open("wb") as out:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if target.stat().st_size != expected.get("size") or \
            digest.hexdigest() != expected.get("sha256"):
        raise _damaged(source, f"{name} does not match its checksum")


def _damaged(source: Path, reason: str) -> BadRequest:
    return BadRequest(message("backup_damaged", file=source.name, reason=reason))


def copy_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
