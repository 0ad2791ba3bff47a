"""Starter templates: app folders shipped under ``starter_templates/<name>/`` — the metadata
(one file per item, as any exported app) plus, in ``seed/<entity>.json``, the records an app
needs from its first minute (reference data such as the sales teams a routing rule
assigns to), planted when the template is cloned."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import loom.starter_templates
from loom.metamodel.errors import MetadataInvalid, NotFound, Problem
from loom.platform.apps.folder import read_folder

TEMPLATES_DIR = Path(next(iter(loom.starter_templates.__path__)))
SEED = "seed"


def available_templates() -> list[str]:
    return sorted(p.name for p in TEMPLATES_DIR.iterdir()
                  if p.is_dir() and (p / "app.json").is_file())


def _folder(name: str) -> Path:
    if name not in available_templates():
        raise NotFound(f"There is no template '{name}' (available: "
                       f"{', '.join(available_templates()) or 'none'})")
    return TEMPLATES_DIR / name


def load_template(name: str) -> dict[str, Any]:
    """The template's document set, marked with the template it came from."""
    document = read_folder(_folder(name), ignore=(SEED,))
    document["app"] = {**document["app"], "template": name}
    return document


def template_seed(name: str) -> dict[str, list[dict[str, Any]]]:
    """Entity → the records to plant in a new clone (reference data that does not refer
    to other seed records)."""
    folder = _folder(name) / SEED
    if not folder.is_dir():
        return {}
    seed: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            records = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MetadataInvalid("The template's seed cannot be read", [
                Problem(f"{SEED}/{path.name}", str(exc))]) from None
        if not isinstance(records, list):
            raise MetadataInvalid("The template's seed cannot be read", [
                Problem(f"{SEED}/{path.name}", "must be a list of records")])
        seed[path.stem] = records
    return seed
