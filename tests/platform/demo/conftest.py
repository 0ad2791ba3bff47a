"""Fixtures of the demo data tests: a templates shelf whose ``crm`` ships the small
recipe of ``demo_kit``."""

from __future__ import annotations

from pathlib import Path

import pytest
from demo_kit import small_crm_shelf


@pytest.fixture
def shelf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A templates folder whose ``crm`` is the real template with the small recipe."""
    return small_crm_shelf(tmp_path / "templates", monkeypatch)
