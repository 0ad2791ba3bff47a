"""What an uploaded file is, decided from its first bytes (and, for the formats that share
a container, its name) — never from what the sender claims. Only kinds a business record
needs are accepted: photos, PDFs, Office documents and plain text. Anything a browser
could run (HTML, SVG, scripts) or a machine could execute is refused."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath


@dataclass(frozen=True)
class FileKind:
    name: str
    content_type: str
    image: bool = False


PNG = FileKind("png", "image/png", image=True)
JPEG = FileKind("jpeg", "image/jpeg", image=True)
GIF = FileKind("gif", "image/gif", image=True)
WEBP = FileKind("webp", "image/webp", image=True)
PDF = FileKind("pdf", "application/pdf")
TEXT = FileKind("text", "text/plain; charset=utf-8")
OFFICE = {
    ".docx": FileKind("docx", "application/vnd.openxmlformats-officedocument."
                              "wordprocessingml.document"),
    ".xlsx": FileKind("xlsx", "application/vnd.openxmlformats-officedocument."
                              "spreadsheetml.sheet"),
    ".pptx": FileKind("pptx", "application/vnd.openxmlformats-officedocument."
                              "presentationml.presentation"),
}
TEXT_SUFFIXES = frozenset({".txt", ".csv", ".log", ".md"})
ACCEPTED = "PNG, JPEG, GIF, WebP, PDF, DOCX, XLSX, PPTX, TXT, CSV"
ACCEPTED_IMAGES = "PNG, JPEG, GIF, WebP"
# what a browser's file picker offers (its ``accept``); the bytes still decide
PICKER_IMAGES = ".png,.jpg,.jpeg,.gif,.webp"
PICKER_FILES = PICKER_IMAGES + ",.pdf,.docx,.xlsx,.pptx,.txt,.csv,.log,.md"


def sniff(head: bytes, filename: str) -> FileKind | None:
    """The kind of a file starting with ``head`` (its first 4 KiB or more), or None."""
    suffix = PurePath(filename).suffix.lower()
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04") and suffix in OFFICE:
        return OFFICE[suffix]
    if suffix in TEXT_SUFFIXES and _plain_text(head):
        return TEXT
    return None


def _plain_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a character cut at the end of the sample is fine
        return exc.start >= len(head) - 3
    return True
