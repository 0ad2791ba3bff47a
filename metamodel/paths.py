"""Where a problem is in a document: ``entities.lead.fields.options[2].value``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def format_path(parts: Iterable[Any]) -> str:
    """Render a JSON path as ``entities.lead.fields.options[2].value``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
