"""The layout promise: one import root, and nothing at the repository root shadows the
standard library when tests run with ``python -m pytest`` from there."""

import importlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_platform_name_is_still_the_standard_library() -> None:
    code = "import platform, sys; print(platform.system()); print(platform.__file__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] in {"Linux", "Darwin", "Windows"}
    assert not out[1].startswith(str(ROOT))


def test_loom_packages_map_to_the_card_folders() -> None:
    for name in ("platform", "metamodel", "engines", "renderers", "starter_templates",
                 "migrations"):
        module = importlib.import_module(f"loom.{name}")
        locations = [Path(p).resolve() for p in module.__path__]
        assert ROOT / name in locations, (name, locations)


def test_python_m_pytest_runs_from_the_repository_root() -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                             "tests/test_layout.py"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_platform_name_is_still_the_standard_library" in result.stdout
