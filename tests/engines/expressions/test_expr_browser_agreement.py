"""Server and browser agree: the shared cases evaluated by Python and by Node running
json-logic-js with engines/expressions/static/loom-logic.js. Setup: ``npm ci`` at the
repository root (the test fails, never skips, when Node or the packages are missing)."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from loom.engines.expressions import Env, compile_condition

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
CASES = json.loads((HERE / "shared_cases.json").read_text(encoding="utf-8"))


def env_of(spec: dict[str, Any] | None) -> Env:
    spec = spec or {}
    now = datetime.fromisoformat(spec.get("now", "2025-01-01T00:00:00Z").replace("Z", "+00:00"))
    return Env.at(now, ZoneInfo(spec.get("timezone", "UTC")), user=spec.get("user", {}),
                  prior=spec.get("prior"), changed=frozenset(spec.get("changed", [])))


def as_json(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    return value


def python_results() -> list[Any]:
    return [as_json(compile_condition(case["rule"]).evaluate(case["data"], env_of(case.get("env"))))
            for case in CASES]


def node_results() -> list[Any]:
    node = shutil.which("node")
    assert node, "Node.js is needed for this test (apt-get install nodejs)"
    assert (ROOT / "node_modules" / "json-logic-js").is_dir(), \
        "json-logic-js is not installed: run `npm ci` at the repository root"
    finished = subprocess.run([node, str(HERE / "node_runner.js"), str(HERE / "shared_cases.json")],
                              cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert finished.returncode == 0, finished.stderr
    results = json.loads(finished.stdout)
    return [result.get("value", result.get("error")) for result in results]


def test_python_gives_the_expected_answers() -> None:
    for case, result in zip(CASES, python_results(), strict=True):
        assert result == case["expected"], case["name"]


def test_browser_gives_the_same_answers() -> None:
    mismatches = [(case["name"], server, browser)
                  for case, server, browser in zip(CASES, python_results(), node_results(),
                                                   strict=True)
                  if server != browser or server != case["expected"]]
    assert mismatches == []


@pytest.mark.parametrize("name", ["today", "is_blank", "days_since", "has_role", "changed"])
def test_the_browser_file_defines_the_operators(name: str) -> None:
    source = (ROOT / "engines/expressions/static/loom-logic.js").read_text(encoding="utf-8")
    assert f'"{name}"' in source


def test_the_browser_file_installs_itself_on_window_json_logic() -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed for this test"
    script = """
        const vm = require("vm"), fs = require("fs");
        const window = {jsonLogic: require("json-logic-js")};
        window.self = window;
        vm.createContext(window);
        vm.runInContext(fs.readFileSync(process.argv[1], "utf8"), window);
        window.loomLogic.setEnv({today: "2025-03-01"});
        process.stdout.write(JSON.stringify([
            window.jsonLogic.apply({"today": []}),
            window.jsonLogic.apply({"<": [null, 1]}),
            typeof window.module]));
    """
    finished = subprocess.run(
        [node, "-e", script, str(ROOT / "engines/expressions/static/loom-logic.js")],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout) == ["2025-03-01", False, "undefined"]
