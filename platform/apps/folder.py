"""An app as a folder of JSON files — one file per item, friendly to git and diffs:
``app.json``, ``entities/<name>.json``, ``forms/…``, ``views/…``, ``rules/…``, ``flows/…``,
``dashboards/…``, ``roles/…``, ``jobs/…``."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import simplejson

from loom.metamodel.app import ITEM_SECTIONS
from loom.metamodel.errors import MetadataInvalid, Problem


def _dump(value: Any) -> str:
    return simplejson.dumps(value, use_decimal=True, ensure_ascii=False, indent=2) + "\n"


def write_folder(document: dict[str, Any], folder: Path) -> list[Path]:
    """Write the document set under ``folder``; files of items no longer present are removed,
    so the folder always equals the document."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "app.json"]
    written[0].write_text(_dump(document.get("app", {})), encoding="utf-8")
    for section in ITEM_SECTIONS:
        items = document.get(section) or {}
        directory = folder / section
        if directory.exists():
            for stale in directory.glob("*.json"):
                if stale.stem not in items:
                    stale.unlink()
        if not items:
            continue
        directory.mkdir(exist_ok=True)
        for name, item in items.items():
            path = directory / f"{name}.json"
            path.write_text(_dump(item), encoding="utf-8")
            written.append(path)
    return written


def _load(path: Path, problems: list[Problem], root: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except json.JSONDecodeError as exc:
        problems.append(Problem(str(path.relative_to(root)),
                                f"not valid JSON: {exc.msg} (line {exc.lineno}, column "
                                f"{exc.colno})"))
    except UnicodeDecodeError:
        problems.append(Problem(str(path.relative_to(root)), "not UTF-8 text"))
    return None


def read_folder(folder: Path) -> dict[str, Any]:
    """The document set stored under ``folder``; unreadable files are all reported."""
    if not (folder / "app.json").is_file():
        raise MetadataInvalid(f"{folder} is not an app folder (app.json is missing)")
    problems: list[Problem] = []
    document: dict[str, Any] = {"app": _load(folder / "app.json", problems, folder)}
    for section in ITEM_SECTIONS:
        directory = folder / section
        if not directory.is_dir():
            continue
        document[section] = {path.stem: _load(path, problems, folder)
                             for path in sorted(directory.glob("*.json"))}
    if problems:
        raise MetadataInvalid("Some files cannot be read", problems)
    return _plain_numbers(document)


def _plain_numbers(value: Any) -> Any:
    """Decimals read from files become int/float where exact, as JSON columns expect."""
    if isinstance(value, dict):
        return {key: _plain_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) \
            else float(value)
    return value
