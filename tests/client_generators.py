"""Clients generated from the server's OpenAPI documents, as integrators make them:
``openapi-python-client`` (Python) and ``openapi-typescript`` (TypeScript, node, offline).
Each generator's run must be clean: a warning means an operation or a model went missing."""

from __future__ import annotations

import hashlib
import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OPENAPI_TYPESCRIPT = ROOT / "node_modules" / ".bin" / "openapi-typescript"
# formatting the generated code (ruff, by default) is not what is tested
PYTHON_CONFIG = "post_hooks: []\n"


def _digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:10]


def _run(command: list[str], cwd: Path) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300,
                            check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


class PythonClients:
    """Generated Python clients, kept per document (a module generates each once), importable
    from a folder of their own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.packages: dict[str, ModuleType] = {}
        sys.path.insert(0, str(folder))

    def client_of(self, document: dict[str, Any], name: str) -> ModuleType:
        package = f"{name}_{_digest(document)}"
        if package not in self.packages:
            spec = self.folder / f"{package}.json"
            spec.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
            config = self.folder / "openapi-python-client.yaml"
            config.write_text(PYTHON_CONFIG, encoding="utf-8")
            output = _run([sys.executable, "-m", "openapi_python_client", "generate",
                           "--path", str(spec), "--output-path", str(self.folder / package),
                           "--meta", "none", "--config", str(config)], self.folder)
            # a skipped operation or model is a warning; nothing else is said on success
            assert output.strip() == f"Generating {self.folder / package}", output
            self.packages[package] = importlib.import_module(package)
        return self.packages[package]

    def close(self) -> None:
        sys.path.remove(str(self.folder))
        for package in self.packages:
            for module in [m for m in sys.modules if m == package or
                           m.startswith(package + ".")]:
                del sys.modules[module]


def typescript_of(document: dict[str, Any], folder: Path) -> str:
    """The TypeScript types openapi-typescript makes of ``document`` (once per document and
    folder); refused if it says anything but that it made them."""
    spec = folder / f"{_digest(document)}.json"
    target = spec.with_suffix(".d.ts")
    if target.exists():
        return target.read_text(encoding="utf-8")
    spec.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    output = _run([str(OPENAPI_TYPESCRIPT), str(spec), "--output", str(target)], ROOT)
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 2 and "openapi-typescript" in lines[0] and "→" in lines[1], output
    return target.read_text(encoding="utf-8")
