"""An app as a set of JSON files — one file per item, friendly to git and diffs:
``app.json``, ``entities/<name>.json``, ``forms/…``, ``views/…``, ``rules/…``, ``flows/…``,
``dashboards/…``, ``roles/…``, ``jobs/…`` — in a folder or in a zip archive.

Files are written the same way every time (2-space indent, UTF-8 as is, keys in the order
of the published document, which follows the metadata models), so exporting twice gives
identical files and a changed item changes only its own file.
"""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

import simplejson

from loom.metamodel.app import ITEM_SECTIONS
from loom.metamodel.errors import LoomError, MetadataInvalid, PayloadTooLarge, Problem

# A zip entry's timestamp is part of its bytes; a fixed one makes archives reproducible.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
MAX_ARCHIVE_FILES = 5000


def _dump(value: Any) -> str:
    return simplejson.dumps(value, use_decimal=True, ensure_ascii=False, indent=2) + "\n"


def document_files(document: dict[str, Any]) -> dict[str, str]:
    """Relative path → file text, ``app.json`` first, then each section's items."""
    files = {"app.json": _dump(document.get("app", {}))}
    for section in ITEM_SECTIONS:
        for name, item in (document.get(section) or {}).items():
            files[f"{section}/{name}.json"] = _dump(item)
    return files


def document_from_files(files: dict[str, bytes], where: str = "", *,
                        ignore: tuple[str, ...] = ()) -> dict[str, Any]:
    """The document set stored in ``files`` (relative path → bytes); every unreadable file
    is reported, and JSON files outside the layout are named rather than ignored (other
    files — a README, a .gitignore — are not metadata and are left alone)."""
    if "app.json" not in files:
        raise MetadataInvalid(f"{where or 'the archive'} is not an app folder "
                              "(app.json is missing)")
    problems: list[Problem] = []
    document: dict[str, Any] = {"app": _load("app.json", files["app.json"], problems)}
    for path in sorted(files):
        if path == "app.json":
            continue
        parts = PurePosixPath(path).parts
        if not parts[-1].endswith(".json") or parts[0] in ignore:
            continue
        if len(parts) != 2 or parts[0] not in ITEM_SECTIONS:
            problems.append(Problem(path, "not part of an app: expected app.json or "
                                    f"<section>/<name>.json with a section of "
                                    f"{', '.join(ITEM_SECTIONS)}"))
            continue
        document.setdefault(parts[0], {})[parts[1][:-5]] = _load(path, files[path], problems)
    if problems:
        raise MetadataInvalid("Some files cannot be read", problems)
    return _plain_numbers(document)


def _load(path: str, data: bytes, problems: list[Problem]) -> Any:
    try:
        return json.loads(data.decode("utf-8"), parse_float=Decimal)
    except json.JSONDecodeError as exc:
        problems.append(Problem(path, f"not valid JSON: {exc.msg} (line {exc.lineno}, column "
                                f"{exc.colno})"))
    except UnicodeDecodeError:
        problems.append(Problem(path, "not UTF-8 text"))
    return None


# --- folders ------------------------------------------------------------------------------

def write_folder(document: dict[str, Any], folder: Path) -> list[Path]:
    """Write the document set under ``folder``; files of items no longer present are removed,
    so the folder always equals the document."""
    folder.mkdir(parents=True, exist_ok=True)
    files = document_files(document)
    for section in ITEM_SECTIONS:
        directory = folder / section
        if directory.exists():
            for stale in directory.glob("*.json"):
                if f"{section}/{stale.name}" not in files:
                    stale.unlink()
    written = []
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def read_folder(folder: Path, *, ignore: tuple[str, ...] = ()) -> dict[str, Any]:
    """The document set stored under ``folder`` (``ignore``: sub-folders that are not
    metadata, such as a template's seed records)."""
    if not (folder / "app.json").is_file():
        raise MetadataInvalid(f"{folder} is not an app folder (app.json is missing)")
    files = {"app.json": (folder / "app.json").read_bytes()}
    for section in ITEM_SECTIONS:
        directory = folder / section
        if directory.is_dir():
            for path in directory.glob("*.json"):
                files[f"{section}/{path.name}"] = path.read_bytes()
    return document_from_files(files, str(folder), ignore=ignore)


# --- zip archives -------------------------------------------------------------------------

def write_zip(document: dict[str, Any]) -> bytes:
    """The document set as a zip of its files (the same files as an exported folder)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for relative, text in document_files(document).items():
            info = zipfile.ZipInfo(relative, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()


def read_zip(data: bytes, *, max_bytes: int) -> dict[str, Any]:
    """The document set in a zip archive, as exported or as a user zipped their folder
    (one enclosing folder is allowed). Archives that unpack to more than ``max_bytes`` are
    refused before they are unpacked; a damaged one is refused, whatever is wrong in it."""
    try:
        files = _unpack(data, max_bytes)
    except LoomError:
        raise
    except Exception as exc:
        # zipfile reports damaged input in many ways (BadZipFile, zlib.error, EOFError,
        # ValueError, UnicodeDecodeError of a name, NotImplementedError, IndexError, …):
        # every one of them means the upload cannot be read, none is a fault of ours
        reason = str(exc) or type(exc).__name__
        raise MetadataInvalid(f"The upload is not a readable zip archive ({reason})") from None
    return document_from_files(files)


def _unpack(data: bytes, max_bytes: int) -> dict[str, bytes]:
    """The archive's files by their path inside the app folder."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise MetadataInvalid("The upload is not a zip archive") from None
    with archive:
        entries = [i for i in archive.infolist() if not i.is_dir()
                   and not _is_clutter(PurePosixPath(i.filename))]
        if len(entries) > MAX_ARCHIVE_FILES:
            raise PayloadTooLarge(f"The archive holds more than {MAX_ARCHIVE_FILES} files")
        if sum(i.file_size for i in entries) > max_bytes:
            raise PayloadTooLarge(f"The archive unpacks to more than {max_bytes} bytes")
        prefix = _common_folder([PurePosixPath(i.filename) for i in entries])
        files: dict[str, bytes] = {}
        for info in entries:
            path = PurePosixPath(info.filename)
            if path.is_absolute() or ".." in path.parts:
                raise MetadataInvalid(f"The archive has an unsafe path: {info.filename}")
            relative = PurePosixPath(*path.parts[len(prefix):]).as_posix()
            try:
                files[relative] = archive.read(info)
            except Exception as exc:  # damaged data: see read_zip
                reason = str(exc) or type(exc).__name__
                raise MetadataInvalid(f"{info.filename} cannot be unpacked: {reason}"
                                      ) from None
    return files


def _is_clutter(path: PurePosixPath) -> bool:
    """Files operating systems add to archives."""
    return any(part == "__MACOSX" or part.startswith("._") or part == ".DS_Store"
               for part in path.parts)


def _common_folder(paths: list[PurePosixPath]) -> tuple[str, ...]:
    """The one folder every entry sits in, when the archive was made from a folder."""
    if paths and all(len(p.parts) > 1 for p in paths):
        first = paths[0].parts[0]
        if all(p.parts[0] == first for p in paths) and \
                any(p.parts[1:] == ("app.json",) for p in paths):
            return (first,)
    return ()


def _plain_numbers(value: Any) -> Any:
    """Whole numbers read from files become ints; fractions stay exact decimals, as a
    document read from an API body or a JSON column has them (0.3 is never a float that
    compares unequal to the same document read another way)."""
    if isinstance(value, dict):
        return {key: _plain_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(item) for item in value]
    if isinstance(value, Decimal) and value == value.to_integral_value() \
            and "." not in str(value):
        return int(value)
    return value
