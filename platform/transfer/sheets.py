"""Reading an uploaded sheet — CSV or XLSX — one row at a time, whatever its size.

CSV may be UTF-8 (with or without the byte order mark Excel writes) or, as Excel saves it
on Chinese Windows, GB18030/GBK; the delimiter is a comma, semicolon or tab. XLSX must be
a real workbook (a zip with ``xl/workbook.xml``); its first worksheet is read in
openpyxl's read-only mode, which streams the sheet's XML instead of loading it.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from loom.metamodel.errors import BadRequest
from loom.metamodel.i18n import message, register_messages

Kind = Literal["csv", "xlsx"]
SNIFF_BYTES = 64 * 1024
# a workbook that inflates beyond this is refused before it is read (zip bombs)
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024

register_messages({
    "sheet_not_xlsx": {
        "en": "The file is not an Excel workbook (.xlsx); save it as .xlsx or .csv",
        "zh-CN": "该文件不是 Excel 工作簿（.xlsx），请另存为 .xlsx 或 .csv",
    },
    "sheet_xlsx_broken": {"en": "The workbook cannot be read: {reason}",
                          "zh-CN": "无法读取该工作簿：{reason}"},
    "sheet_xlsx_too_big": {
        "en": "The workbook unpacks to more than {limit} MiB",
        "zh-CN": "该工作簿解压后超过 {limit} MiB",
    },
    "sheet_not_text": {
        "en": "The file is not CSV text (it contains binary data); upload a .csv or .xlsx file",
        "zh-CN": "该文件不是 CSV 文本（含有二进制数据），请上传 .csv 或 .xlsx 文件",
    },
    "sheet_bad_encoding": {
        "en": "Row {row} is not UTF-8 or GB18030 text; save the file as UTF-8 CSV",
        "zh-CN": "第 {row} 行不是 UTF-8 或 GB18030 编码的文本，请将文件另存为 UTF-8 CSV",
    },
    "sheet_bad_csv": {"en": "Row {row} cannot be read as CSV: {reason}",
                      "zh-CN": "第 {row} 行无法按 CSV 读取：{reason}"},
    "sheet_empty": {"en": "The file has no header row", "zh-CN": "文件没有表头行"},
})


@dataclass(frozen=True)
class PercentCell:
    """A workbook number shown as a percentage: the cell holds the fraction (0.125 for
    12.5%); a percent field takes the percentage points it shows."""

    fraction: float


@dataclass(frozen=True)
class SheetRow:
    """A data row and its number as a spreadsheet shows it (the header is row 1)."""

    number: int
    cells: list[Any]


class Sheet:
    """The header and the data rows of a file; blank rows are skipped but counted."""

    def __init__(self, path: Path, kind: Kind, encoding: str | None = None) -> None:
        self.path = path
        self.kind = kind
        self.encoding = encoding
        self._rows = _xlsx_rows(path) if kind == "xlsx" else _csv_rows(path, encoding)
        first = next(self._rows, None)
        if first is None or not any(_filled(cell) for cell in first):
            self.close()
            raise BadRequest(message("sheet_empty"))
        self.headers = [str(cell).strip() if cell is not None else "" for cell in first]

    def rows(self) -> Iterator[SheetRow]:
        number = 1
        for cells in self._rows:
            number += 1
            if any(_filled(cell) for cell in cells):
                yield SheetRow(number, list(cells))

    def close(self) -> None:
        """Close the file (also when the rows were not all read)."""
        self._rows.close()


def _filled(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def check_kind(path: Path, kind: Kind) -> None:
    """Refuse a file that is not what it claims: a workbook that is no xlsx zip, a CSV
    with binary content (an .xls or a picture renamed)."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if kind == "xlsx":
        if not head.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(path):
            raise BadRequest(message("sheet_not_xlsx"))
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                unpacked = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError):
            raise BadRequest(message("sheet_not_xlsx")) from None
        if "xl/workbook.xml" not in names:
            raise BadRequest(message("sheet_not_xlsx"))
        if unpacked > MAX_UNPACKED_BYTES:
            raise BadRequest(message("sheet_xlsx_too_big", limit=MAX_UNPACKED_BYTES >> 20))
        return
    if b"\x00" in head or head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise BadRequest(message("sheet_not_text"))


def detect_encoding(path: Path) -> str:
    """UTF-8 (BOM or not) when the start of the file decodes as UTF-8, else GB18030."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _csv_rows(path: Path, encoding: str | None) -> Generator[list[Any], None, None]:
    encoding = encoding or detect_encoding(path)
    if encoding == "utf-8":
        encoding = "utf-8-sig"  # the same, less a byte order mark at the start
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        sample = text.readline(SNIFF_BYTES)
        text.seek(0)
        delimiter = max((",", ";", "\t"), key=sample.count) if sample else ","
        reader = csv.reader(text, delimiter=delimiter)
        row = 1
        try:
            for row, cells in enumerate(reader, start=1):  # noqa: B007 (reported on error)
                yield cells
        except UnicodeDecodeError:
            raise BadRequest(message("sheet_bad_encoding", row=row + 1)) from None
        except csv.Error as exc:
            raise BadRequest(message("sheet_bad_csv", row=row + 1, reason=str(exc))) from None


def _cell_value(cell: Any) -> Any:
    value = getattr(cell, "value", None)
    if isinstance(value, int | float) and not isinstance(value, bool) and \
            "%" in (getattr(cell, "number_format", None) or ""):
        return PercentCell(value)
    return value


def _xlsx_rows(path: Path) -> Generator[list[Any], None, None]:
    from openpyxl import load_workbook

    check_kind(path, "xlsx")
    # a file object, not the path: openpyxl judges a path by its extension
    with path.open("rb") as handle:
        try:
            workbook = load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds on a damaged file
            raise BadRequest(message("sheet_xlsx_broken", reason=type(exc).__name__)) from None
        try:
            if not workbook.worksheets:
                raise BadRequest(message("sheet_empty"))
            try:
                for cells in workbook.worksheets[0].iter_rows():
                    yield [_cell_value(cell) for cell in cells]
            except BadRequest:
                raise
            except Exception as exc:
                raise BadRequest(message("sheet_xlsx_broken",
                                         reason=type(exc).__name__)) from None
        finally:
            workbook.close()
