"""Rows of cells as CSV text or an XLSX workbook, written a page at a time.

CSV is UTF-8 with a byte order mark, so Excel opens Chinese text correctly. XLSX uses
openpyxl's write-only mode: rows go to a temporary file as they come, never all in memory.
Text is always a text cell there — a value like ``=HYPERLINK(…)`` is never a formula.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")


class CsvWriter:
    """Encode rows as CSV, chunk by chunk; the first chunk starts with the BOM."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)
        self.started = False

    def chunk(self, rows: Iterable[Sequence[Any]]) -> bytes:
        if not self.started:
            self.buffer.write(BOM)
            self.started = True
        self.writer.writerows([["" if cell is None else cell for cell in row]
                               for row in rows])
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text.encode("utf-8")


class XlsxWriter:
    """One worksheet, written row by row to a temporary file (``finish`` returns it)."""

    def __init__(self, title: str) -> None:
        # openpyxl brings numpy along (a second of CPU): imported by the first export,
        # not by every command and server start
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        self._new_cell = WriteOnlyCell
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(sheet_title(title))

    def append(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.sheet.append([self._cell(value) for value in row])

    def _cell(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        cell = self._new_cell(self.sheet, ILLEGAL_XML.sub("", value))
        cell.data_type = "s"  # never a formula
        return cell

    def finish(self) -> Path:
        """Write the workbook into a temporary file; the caller deletes it."""
        descriptor, name = tempfile.mkstemp(prefix="loom-export-", suffix=".xlsx")
        os.close(descriptor)
        self.workbook.save(name)
        return Path(name)


def sheet_title(text: str) -> str:
    """A worksheet title Excel accepts: at most 31 characters, none of []:*?/\\."""
    return SHEET_TITLE_BAD.sub("_", text).strip("'")[:31] or "Sheet1"
