"""Fixtures of the backup tests: a templates shelf whose ``crm`` ships the small demo
recipe (the demo data tests' own, so a CRM with data takes seconds)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "demo"))

from demo_kit import small_crm_shelf


@pytest.fixture
def shelf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return small_crm_shelf(tmp_path / "templates", monkeypatch)
