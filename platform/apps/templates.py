"""Starter templates: app folders shipped under ``starter_templates/<name>/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import loom.starter_templates
from loom.metamodel.errors import NotFound
from loom.platform.apps.folder import read_folder

TEMPLATES_DIR = Path(next(iter(loom.starter_templates.__path__)))


def available_templates() -> list[str]:
    return sorted(p.name for p in TEMPLATES_DIR.iterdir()
                  if p.is_dir() and (p / "app.json").is_file())


def load_template(name: str) -> dict[str, Any]:
    """The template's document set, marked with the template it came from."""
    if name not in available_templates():
        raise NotFound(f"There is no template '{name}' (available: "
                       f"{', '.join(available_templates()) or 'none'})")
    document = read_folder(TEMPLATES_DIR / name)
    document["app"] = {**document["app"], "template": name}
    return document
