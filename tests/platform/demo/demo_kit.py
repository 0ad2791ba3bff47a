"""The CRM demo recipe cut down to a few records, so a demo test takes seconds."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import loom.platform.apps.templates as templates

CRM = templates.TEMPLATES_DIR / "crm"
AS_OF = "2026-11-30T02:00:00+00:00"
SMALL_COUNTS = {"customers": 6, "leads": 4}


def crm_recipe() -> dict[str, Any]:
    return json.loads((CRM / "demo" / "recipe.json").read_text(encoding="utf-8"))


def small_recipe() -> dict[str, Any]:
    """The CRM recipe with a handful of customers and leads (everything else follows)."""
    recipe = copy.deepcopy(crm_recipe())
    for step in recipe["steps"]:
        if step["name"] in SMALL_COUNTS:
            step["count"] = SMALL_COUNTS[step["name"]]
    for group in recipe["users"]["groups"]:
        if not isinstance(group.get("count", 1), int):
            group["count"] = 1
    return recipe


def small_crm_shelf(folder: Path, monkeypatch: Any) -> Path:
    """A templates folder whose ``crm`` is the real template with the small recipe, in
    place of the stock shelf for the test."""
    shutil.copytree(CRM, folder / "crm")
    (folder / "crm" / "demo" / "recipe.json").write_text(
        json.dumps(small_recipe(), ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(templates, "TEMPLATES_DIR", folder)
    return folder / "crm"
