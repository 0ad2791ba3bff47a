"""Where an app's demo recipe comes from: its template's ``demo/recipe.json`` (or a file a
user names), read and checked against the app's published metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loom.engines.demo import Recipe, parse_recipe
from loom.metamodel.app import AppDocument
from loom.metamodel.errors import BadRequest, MetadataInvalid, Problem
from loom.metamodel.i18n import message, register_messages
from loom.platform.apps import templates

RECIPE = Path("demo") / "recipe.json"

register_messages({
    "demo_no_recipe": {"en": "There is no demo data recipe for this app (its template has "
                             "none); give one with --recipe",
                       "zh-CN": "本应用没有演示数据配方（其模板未提供）；请用 --recipe 指定"},
    "demo_recipe_unreadable": {"en": "The demo data recipe cannot be read",
                               "zh-CN": "无法读取演示数据配方"},
})


def template_recipe_raw(template: str | None) -> Any:
    """The raw recipe a template ships, or a refusal naming what is missing."""
    if template is None or template not in templates.available_templates():
        raise BadRequest(message("demo_no_recipe"))
    path = templates.TEMPLATES_DIR / template / RECIPE
    if not path.is_file():
        raise BadRequest(message("demo_no_recipe"))
    return read_recipe_file(path)


def has_recipe(template: str | None) -> bool:
    return template is not None and template in templates.available_templates() and \
        (templates.TEMPLATES_DIR / template / RECIPE).is_file()


def read_recipe_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MetadataInvalid(message("demo_recipe_unreadable"),
                              [Problem(str(RECIPE), str(exc))]) from None


def app_recipe(document: AppDocument, raw: Any = None) -> Recipe:
    """The recipe for an app: ``raw`` when given, else its template's; checked."""
    if raw is None:
        raw = template_recipe_raw(document.app.template)
    return parse_recipe(raw, document)
