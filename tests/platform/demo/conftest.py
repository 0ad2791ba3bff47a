"""Fixtures of the demo data tests: a templates shelf whose ``crm`` ships the small
recipe of ``demo_kit``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from demo_kit import CRM, small_recipe

import loom.platform.apps.templates as templates


@pytest.fixture
def shelf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A templates folder whose ``crm`` is the real template with the small recipe."""
    folder = tmp_path / "templates"
    shutil.copytree(CRM, folder / "crm")
    (folder / "crm" / "demo" / "recipe.json").write_text(
        json.dumps(small_recipe(), ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(templates, "TEMPLATES_DIR", folder)
    return folder / "crm"
